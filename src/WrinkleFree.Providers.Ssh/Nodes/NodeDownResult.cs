using WrinkleFree.Providers.Ssh.Pools;

namespace WrinkleFree.Providers.Ssh.Nodes;

/// <summary>What <c>wf ssh down</c> did on one node: the replicas it stopped and whether the installed files are gone.</summary>
public sealed record NodeDownResult(SshNode Node, IReadOnlyList<NodeReplica> Stopped, string? Error)
{
    /// <summary>Whether everything <c>wf ssh up</c> installed is gone from the node.</summary>
    public bool Succeeded => Error is null;
}
