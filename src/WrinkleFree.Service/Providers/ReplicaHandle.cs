using System.Text.Json;
using System.Text.Json.Serialization;

namespace WrinkleFree.Service.Providers;

/// <summary>
/// How a provider finds a replica again, stored as JSON in the state database: the provider's name, the endpoint, and the
/// provider's own identifiers (pid and process start time locally; pod name or instance id elsewhere).
/// </summary>
public sealed record ReplicaHandle
{
    public required string Provider { get; init; }

    public required string Service { get; init; }

    public required int ReplicaId { get; init; }

    public required string EndpointUrl { get; init; }

    /// <summary>Local and SSH replicas: the process id (also its process group id).</summary>
    public int? Pid { get; init; }

    /// <summary>The process's start time in clock ticks since boot (/proc/PID/stat field 22): with the pid, its identity.</summary>
    public long? ProcessStartTime { get; init; }

    /// <summary>The kernel's boot id when the process started, so a pid from before a reboot is never mistaken.</summary>
    public string? BootId { get; init; }

    /// <summary>Where the replica's stdout and stderr go.</summary>
    public string? LogPath { get; init; }

    /// <summary>SSH replicas: the host they run on.</summary>
    public string? Host { get; init; }

    /// <summary>SSH replicas: the node pool of <see cref="Host"/>.</summary>
    public string? Pool { get; init; }

    /// <summary>Kubernetes replicas: the pod's name.</summary>
    public string? PodName { get; init; }

    /// <summary>Kubernetes replicas: the pod's UID, so a same-named pod created by someone else is never adopted.</summary>
    public string? PodUid { get; init; }

    /// <summary>Kubernetes replicas: the pod's namespace.</summary>
    public string? PodNamespace { get; init; }

    /// <summary>Kubernetes replicas: the kubeconfig context the pod was created through (null: in-cluster or the current one).</summary>
    public string? KubeContext { get; init; }

    /// <summary>Cloud replicas: the instance id.</summary>
    public string? InstanceId { get; init; }

    /// <summary>Cloud replicas: the cloud (<c>aws</c> or <c>gcp</c>), so a restarted controller asks the right API.</summary>
    public string? Infra { get; init; }

    /// <summary>Cloud replicas: the compute API endpoint the tier named instead of the cloud's own (null: the cloud's).</summary>
    public string? ApiEndpoint { get; init; }

    /// <summary>Cloud replicas on GCP: the project the instance runs in.</summary>
    public string? Project { get; init; }

    /// <summary>Cloud replicas: the region the instance runs in (its API endpoint).</summary>
    public string? Region { get; init; }

    /// <summary>Cloud replicas: the zone the instance runs in, where a preemption moves the replacement on from.</summary>
    public string? Zone { get; init; }

    /// <summary>The handle as compact JSON with snake_case names.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, ProviderJsonContext.Default.ReplicaHandle);

    /// <summary>Reads a handle written by <see cref="ToJson"/>; throws <see cref="JsonException"/> when it is not one.</summary>
    public static ReplicaHandle FromJson(string json) =>
        JsonSerializer.Deserialize(json, ProviderJsonContext.Default.ReplicaHandle)
        ?? throw new JsonException("a replica handle cannot be null");
}
