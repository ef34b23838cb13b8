namespace WrinkleFree.Bench;

/// <summary>The benches' "--name value" options.</summary>
internal static class BenchArgs
{
    /// <summary>The value after <paramref name="name"/>, or null when it is not given.</summary>
    public static string? Arg(string[] args, string name)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}
