namespace WrinkleFree.Service.State;

/// <summary>
/// The kinds of <see cref="ServiceEvent"/>: those <see cref="ServiceEvents"/> formats for the controller and daemon, and
/// those the store writes itself on every change (version_added, service_status, replica_added, replica_status).
/// </summary>
public static class ServiceEventKinds
{
    public const string ServiceCreated = "service_created";
    public const string ServiceUpdated = "service_updated";
    public const string ScaleUp = "scale_up";
    public const string ScaleDown = "scale_down";
    public const string Launch = "launch";
    public const string Ready = "ready";
    public const string ReplicaFailed = "replica_failed";
    public const string Backoff = "backoff";
    public const string ServiceFailed = "service_failed";
    public const string Drained = "drained";
    public const string ControllerStarted = "controller_started";
    public const string EndpointRestarted = "endpoint_restarted";
    public const string RollingInPlace = "rolling_in_place";

    public const string ServiceStatus = "service_status";
    public const string VersionAdded = "version_added";
    public const string ReplicaAdded = "replica_added";
    public const string ReplicaStatus = "replica_status";
}
