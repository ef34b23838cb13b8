namespace WrinkleFree.Service.State;

/// <summary>The event kinds the store writes itself; callers may append their own kinds.</summary>
public static class ServiceEventKinds
{
    public const string ServiceCreated = "service_created";
    public const string ServiceUpdated = "service_updated";
    public const string ServiceStatus = "service_status";
    public const string ServiceDeleted = "service_deleted";
    public const string VersionAdded = "version_added";
    public const string ReplicaAdded = "replica_added";
    public const string ReplicaStatus = "replica_status";
    public const string ReplicaUpdated = "replica_updated";
    public const string ReplicaFailed = "replica_failed";
    public const string Backoff = "backoff";
    public const string ServiceFailed = "service_failed";
    public const string RollingInPlace = "rolling_in_place";
    public const string ScaleUp = "scale_up";
    public const string ScaleDown = "scale_down";
    public const string EndpointRestarted = "endpoint_restarted";
}
