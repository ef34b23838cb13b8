namespace WrinkleFree.Service.Providers;

/// <summary>A provider's answer to "how is this replica?": the state, the exit code if it exited, and why.</summary>
public sealed record ProviderReplicaStatus(ProviderReplicaState State, int? ExitCode = null, string? Detail = null)
{
    public static ProviderReplicaStatus Running { get; } = new(ProviderReplicaState.Running);

    public static ProviderReplicaStatus Unknown(string detail) => new(ProviderReplicaState.Unknown, null, detail);

    public static ProviderReplicaStatus Exited(int? exitCode, string? detail = null) => new(ProviderReplicaState.Exited, exitCode, detail);

    public static ProviderReplicaStatus Preempted(string detail) => new(ProviderReplicaState.Preempted, null, detail);
}
