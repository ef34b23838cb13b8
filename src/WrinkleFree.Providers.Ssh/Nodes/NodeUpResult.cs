using WrinkleFree.Providers.Ssh.Pools;

namespace WrinkleFree.Providers.Ssh.Nodes;

/// <summary>What <c>wf ssh up</c> did on one node: its facts after the install and each file, or the error that stopped it.</summary>
public sealed record NodeUpResult(SshNode Node, NodeFacts? Facts, IReadOnlyList<InstallResult> Files, string? Error)
{
    /// <summary>Whether the node is set up (connected, probed, every file in place).</summary>
    public bool Succeeded => Error is null;
}
