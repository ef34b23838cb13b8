namespace WrinkleFree.Inference.Gguf;

/// <summary>A GGUF file is truncated, corrupt or hostile; the message names the file offset and what was expected.</summary>
public sealed class GgufFormatException : Exception
{
    public GgufFormatException(string message, long offset = -1)
        : base(offset >= 0 ? $"GGUF: {message} (at file offset {offset})" : $"GGUF: {message}")
    {
        Offset = offset;
    }

    /// <summary>Byte offset in the file where the problem was found, or -1 when it is not tied to one place.</summary>
    public long Offset { get; }
}
