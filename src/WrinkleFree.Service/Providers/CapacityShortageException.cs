namespace WrinkleFree.Service.Providers;

/// <summary>
/// A provider could not launch because its capacity is short right now (every zone of a cloud tier out of capacity or
/// quota), not because the replica is broken. The controller records the failed launch (the planner then rests the tier
/// and places elsewhere) but does not count it toward the crash-loop guard, which would otherwise give the service up
/// while it waits for capacity that comes back on its own.
/// </summary>
public class CapacityShortageException(string message, Exception? inner = null) : Exception(message, inner);
