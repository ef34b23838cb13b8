using k8s.Models;
using WrinkleFree.Service.Providers;

namespace WrinkleFree.Providers.Kubernetes.Pods;

/// <summary>
/// What a pod's phase and conditions mean for the controller. Running or starting is Running (readiness is the
/// prober's business); a pod taken away (evicted, deleted by someone else, its node not ready) is Preempted, which the
/// controller takes out of the balancer at once and replaces; a pod that ended is Exited with its container's code.
/// </summary>
internal static class PodStates
{
    // Waiting reasons after which the container never starts: failing fast beats waiting out the initial delay.
    private static readonly string[] Hopeless = ["ErrImagePull", "ImagePullBackOff", "InvalidImageName", "CreateContainerConfigError", "CreateContainerError"];

    public static ProviderReplicaStatus Of(V1Pod pod, bool deletedByUs)
    {
        ArgumentNullException.ThrowIfNull(pod);
        var status = pod.Status;
        var name = pod.Metadata.Name;
        if (status?.Reason == "Evicted")
            return ProviderReplicaStatus.Preempted($"pod {name} was evicted: {status.Message}");
        if (Condition(pod, "DisruptionTarget") is { Status: "True" } disruption)
            return ProviderReplicaStatus.Preempted($"pod {name} is being taken away ({disruption.Reason}): {disruption.Message}");
        if (pod.Metadata.DeletionTimestamp is not null && !deletedByUs)
            return ProviderReplicaStatus.Preempted($"pod {name} is being deleted by someone else");
        switch (status?.Phase)
        {
            case "Failed":
                var terminated = Container(pod)?.State?.Terminated;
                return ProviderReplicaStatus.Exited(terminated?.ExitCode, $"pod {name} failed{Why(terminated?.Reason ?? status.Reason, terminated?.Message ?? status.Message)}");
            case "Succeeded":
                return ProviderReplicaStatus.Exited(Container(pod)?.State?.Terminated?.ExitCode ?? 0, $"pod {name} ended");
        }

        // The kubelet sets Ready from ContainersReady; only the node controller turns Ready off alone, when the node
        // stopped reporting: the replica is out of reach even if its process still runs.
        if (Condition(pod, "Ready") is { Status: not "True" } ready && (Condition(pod, "ContainersReady")?.Status == "True" || ready.Reason == "NodeNotReady"))
            return ProviderReplicaStatus.Preempted($"pod {name}'s node {pod.Spec?.NodeName} is not ready");
        if (Container(pod)?.State?.Waiting is { } waiting && Hopeless.Contains(waiting.Reason, StringComparer.Ordinal))
            return ProviderReplicaStatus.Exited(null, $"pod {name} cannot start its container{Why(waiting.Reason, waiting.Message)}");
        return status?.Phase == "Running"
            ? ProviderReplicaStatus.Running
            : new ProviderReplicaStatus(ProviderReplicaState.Running, null, $"pod {name} is {status?.Phase ?? "Pending"}{Why(Condition(pod, "PodScheduled") is { Status: "False" } s ? s.Reason : null, null)}");
    }

    private static V1PodCondition? Condition(V1Pod pod, string type) => pod.Status?.Conditions?.FirstOrDefault(c => c.Type == type);

    private static V1ContainerStatus? Container(V1Pod pod) => pod.Status?.ContainerStatuses?.FirstOrDefault(c => c.Name == ReplicaPodBuilder.ContainerName);

    private static string Why(string? reason, string? message) =>
        (reason, message) switch
        {
            (null, null) => "",
            (_, null or "") => $" ({reason})",
            _ => $" ({reason}: {message})",
        };
}
