using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using WrinkleFree.Service.Autoscaling;

namespace WrinkleFree.Service.State;

/// <summary>
/// Builds the <see cref="ServiceEvent"/> of each kind in <see cref="ServiceEventKinds"/>: one wording per kind, so
/// `wf events` reads the same whoever records it. Hand the result to <see cref="ServiceStore.AddEventAsync"/>.
/// </summary>
public static class ServiceEvents
{
    // Details are stored and printed as JSON, never put into HTML unescaped: keep "×", "≤" and ">" readable.
    private static readonly JsonSerializerOptions DetailsJson = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The service was created (the store records it itself).</summary>
    public static ServiceEvent ServiceCreated(string service, string status) =>
        Make(service, ServiceEventKinds.ServiceCreated, Text($"service created ({status})"));

    /// <summary>A new spec version is in force; <paramref name="rolling"/> when replicas are replaced for it.</summary>
    public static ServiceEvent Updated(string service, int version, bool rolling) =>
        Make(service, ServiceEventKinds.ServiceUpdated, Text($"updated to version {version}, {(rolling ? "rolling replicas" : "replicas kept")}"),
            details: new() { ["version"] = version, ["rolling"] = rolling });

    /// <summary>The target went up; <paramref name="reason"/> as "QPS 12.3 > 2 replicas × 5.0" (<see cref="ScalingDecision.Describe"/>).</summary>
    public static ServiceEvent ScaleUp(string service, int from, int to, string reason) => Scale(ServiceEventKinds.ScaleUp, service, from, to, reason);

    /// <summary>The target went down; <paramref name="reason"/> as "QPS 3.1 ≤ 1 replica × 5.0".</summary>
    public static ServiceEvent ScaleDown(string service, int from, int to, string reason) => Scale(ServiceEventKinds.ScaleDown, service, from, to, reason);

    /// <summary>The event for an autoscaler decision that changed the target from <paramref name="from"/>, or null when it did not.</summary>
    public static ServiceEvent? Scale(string service, int from, ScalingDecision decision) =>
        decision.TargetReplicas == from ? null
        : decision.TargetReplicas > from ? ScaleUp(service, from, decision.TargetReplicas, decision.Describe())
        : ScaleDown(service, from, decision.TargetReplicas, decision.Describe());

    /// <summary>A replica was handed to its tier's provider.</summary>
    public static ServiceEvent Launch(string service, int replicaId, string tier, int version) =>
        Make(service, ServiceEventKinds.Launch, Text($"replica {replicaId} launching on tier {tier} (version {version})"), replicaId,
            new() { ["tier"] = tier, ["version"] = version });

    /// <summary>A replica passed its readiness probe, <paramref name="after"/> its launch.</summary>
    public static ServiceEvent Ready(string service, int replicaId, string tier, TimeSpan after) =>
        Make(service, ServiceEventKinds.Ready, Text($"replica {replicaId} ready on tier {tier} after {Seconds(after)}"), replicaId,
            new() { ["tier"] = tier, ["startup_seconds"] = Math.Round(after.TotalSeconds, 1) });

    /// <summary>A replica failed; <paramref name="reason"/> says how ("exit code 1: model file ... does not exist").</summary>
    public static ServiceEvent ReplicaFailed(string service, int replicaId, string reason) =>
        Make(service, ServiceEventKinds.ReplicaFailed, Text($"replica {replicaId} failed: {reason}"), replicaId, new() { ["reason"] = reason });

    /// <summary>Relaunching waits <paramref name="delay"/> after <paramref name="failures"/> recent failures.</summary>
    public static ServiceEvent Backoff(string service, TimeSpan delay, int failures, string? tier = null) =>
        Make(service, ServiceEventKinds.Backoff,
            Text($"{failures} failure{(failures == 1 ? "" : "s")}{(tier is null ? "" : " on tier " + tier)}: next launch in {Seconds(delay)}"),
            details: new() { ["delay_seconds"] = Math.Round(delay.TotalSeconds, 1), ["failures"] = failures, ["tier"] = tier });

    /// <summary>The service gave up replacing replicas; <paramref name="reason"/> names the last failure.</summary>
    public static ServiceEvent ServiceFailed(string service, string reason) =>
        Make(service, ServiceEventKinds.ServiceFailed, Text($"service failed: {reason}"), details: new() { ["reason"] = reason });

    /// <summary>A replica leaving the service finished its in-flight requests (or ran out of drain time) and was stopped.</summary>
    public static ServiceEvent Drained(string service, int replicaId, TimeSpan took) =>
        Make(service, ServiceEventKinds.Drained, Text($"replica {replicaId} drained and stopped in {Seconds(took)}"), replicaId,
            new() { ["drain_seconds"] = Math.Round(took.TotalSeconds, 1) });

    /// <summary>A controller took the service over, adopting <paramref name="adopted"/> running replicas.</summary>
    public static ServiceEvent ControllerStarted(string service, int version, int adopted) =>
        Make(service, ServiceEventKinds.ControllerStarted, Text($"controller started at version {version}, adopted {adopted} replica{(adopted == 1 ? "" : "s")}"),
            details: new() { ["version"] = version, ["adopted"] = adopted });

    /// <summary>The service endpoint listens again (after a daemon or balancer restart).</summary>
    public static ServiceEvent EndpointRestarted(string service, Uri endpoint) =>
        Make(service, ServiceEventKinds.EndpointRestarted, Text($"endpoint listening again at {endpoint.ToString().TrimEnd('/')}"),
            details: new() { ["endpoint"] = endpoint.ToString().TrimEnd('/') });

    private static ServiceEvent Scale(string kind, string service, int from, int to, string reason) =>
        Make(service, kind, Text($"{from} → {to} replicas: {reason}"), details: new() { ["from"] = from, ["to"] = to, ["reason"] = reason });

    private static ServiceEvent Make(string service, string kind, string message, int? replicaId = null, JsonObject? details = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(service);
        return new ServiceEvent
        {
            Service = service,
            Kind = kind,
            Message = message,
            ReplicaId = replicaId,
            Details = details?.ToJsonString(DetailsJson),
        };
    }

    private static string Seconds(TimeSpan t) => t.TotalSeconds < 10 ? Text($"{t.TotalSeconds:0.#} s") : Text($"{Math.Round(t.TotalSeconds):0} s");

    private static string Text(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
