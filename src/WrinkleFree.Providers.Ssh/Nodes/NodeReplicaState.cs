using WrinkleFree.Service.Providers;

namespace WrinkleFree.Providers.Ssh.Nodes;

/// <summary>A replica found on a node and how it is: running (possibly restarted as another process) or exited.</summary>
public sealed record NodeReplicaState(NodeReplica Replica, ProviderReplicaStatus Status);
