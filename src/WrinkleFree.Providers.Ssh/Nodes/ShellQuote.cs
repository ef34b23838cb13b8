namespace WrinkleFree.Providers.Ssh.Nodes;

/// <summary>Quotes words for the node's POSIX shell: every path and value in a script goes through here.</summary>
public static class ShellQuote
{
    /// <summary><paramref name="word"/> in single quotes, with each <c>'</c> written as <c>'\''</c>, so the shell sees it literally.</summary>
    public static string Quote(string word)
    {
        ArgumentNullException.ThrowIfNull(word);
        return "'" + word.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
    }
}
