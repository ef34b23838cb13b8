namespace WrinkleFree.Providers.Ssh;

/// <summary>A replica to stop on a node once it answers again (its stop was asked for while the node was away).</summary>
public sealed record PendingStop(string NodeKey, string Service, int ReplicaId);
