using Microsoft.Extensions.Logging;

namespace WrinkleFree.Replica;

internal static partial class Log
{
    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Replica listening on {Address} (backend {Backend}, model {Model})")]
    public static partial void Listening(ILogger logger, string address, string backend, string model);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Information, Message = "Peak memory read bandwidth {GBps:F1} GB/s ({Source})")]
    public static partial void PeakBandwidth(ILogger logger, double gbps, string source);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Information, Message = "Draining: waiting up to {Seconds:F0} s for {Active} active and {Queued} queued requests")]
    public static partial void Draining(ILogger logger, double seconds, int active, int queued);

    [LoggerMessage(EventId = 1004, Level = LogLevel.Information, Message = "Replica stopped")]
    public static partial void Stopped(ILogger logger);

    [LoggerMessage(EventId = 1005, Level = LogLevel.Error, Message = "Unhandled error on {Method} {Path}")]
    public static partial void Unhandled(ILogger logger, string method, string path, Exception exception);

    [LoggerMessage(EventId = 1006, Level = LogLevel.Error, Message = "Backend failed to start")]
    public static partial void StartFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 1007, Level = LogLevel.Information, Message = "Replica ready on {Address} (model {Model})")]
    public static partial void Ready(ILogger logger, string address, string model);

    [LoggerMessage(EventId = 1020, Level = LogLevel.Information, Message = "Warm-up requests answered in {Milliseconds} ms; serving")]
    public static partial void WarmedUp(ILogger logger, long milliseconds);

    [LoggerMessage(EventId = 1021, Level = LogLevel.Warning, Message = "A warm-up request failed ({Cause}); serving without it")]
    public static partial void WarmUpFailed(ILogger logger, string cause);
}
