namespace WrinkleFree.Fuzz;

/// <summary>A distinct crash: the exception type and the frame it came from, how often it occurred, and the first input saved.</summary>
internal sealed record FuzzCrash(string Signature, string Message, string InputPath, int Count)
{
    public override string ToString() => $"{Signature} x{Count}: {Message} (input: {InputPath})";
}
