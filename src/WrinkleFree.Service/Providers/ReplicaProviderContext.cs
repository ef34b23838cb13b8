using Microsoft.Extensions.Logging;

namespace WrinkleFree.Service.Providers;

/// <summary>What every provider gets from the daemon that creates it: the WF home, the clock and the loggers.</summary>
public sealed record ReplicaProviderContext(string Home, TimeProvider Time, ILoggerFactory Loggers);
