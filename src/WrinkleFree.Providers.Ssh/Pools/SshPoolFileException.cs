using WrinkleFree.Platform.Specs;

namespace WrinkleFree.Providers.Ssh.Pools;

/// <summary>
/// <c>ssh_node_pools.yaml</c> is wrong: the message names the file, the key path as written
/// (<c>hetzner-base.hosts[1].idenity_file</c>), its line and column, and what to change.
/// </summary>
public sealed class SshPoolFileException(string? file, string keyPath, int line, int column, string detail)
    : Exception(SpecErrorText.Format(keyPath, line, column, detail, file, "the pool file"))
{
    /// <summary>The pool file, when the text came from one.</summary>
    public string? File { get; } = file;

    /// <summary>Where in the file: <c>pool.hosts[i].key</c>; empty for the whole document.</summary>
    public string KeyPath { get; } = keyPath;

    /// <summary>1-based line, or 0 when unknown.</summary>
    public int Line { get; } = line;

    /// <summary>1-based column, or 0 when unknown.</summary>
    public int Column { get; } = column;

    /// <summary>What is wrong, without the location.</summary>
    public string Detail { get; } = detail;
}
