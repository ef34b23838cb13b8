namespace WrinkleFree.Service.State;

/// <summary>One entry of a service's event log; ids increase in commit order.</summary>
public sealed record ServiceEvent(long Id, string Service, int? ReplicaId, DateTimeOffset Time, string Kind, string Message);
