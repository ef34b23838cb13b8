using WrinkleFree.Providers.Ssh.Pools;

namespace WrinkleFree.Providers.Ssh.Nodes;

/// <summary>
/// What <c>wf ssh check</c> found on one node: reachable or why not, its facts, how many replicas of the asked shape it
/// holds (<see cref="Capacity"/>) and how many more fit beside ours running there (<see cref="Free"/>).
/// </summary>
public sealed record NodeCheckResult(SshNode Node, NodeFacts? Facts, int? Capacity, int? Free, string? Error)
{
    /// <summary>Whether the node answered and could be probed.</summary>
    public bool Reachable => Error is null;
}
