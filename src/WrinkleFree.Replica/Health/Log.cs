using Microsoft.Extensions.Logging;

namespace WrinkleFree.Replica.Health;

/// <summary>Interruption-notice log messages (event ids 1060-1069).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1060, Level = LogLevel.Information, Message = "Watching for spot interruption notices ({Cloud}) at {Url}")]
    public static partial void Watching(ILogger logger, string cloud, Uri url);

    [LoggerMessage(EventId = 1061, Level = LogLevel.Warning, Message = "Draining: {Reason}; {Active} active and {Queued} queued requests finish, new ones are refused")]
    public static partial void NoticeReceived(ILogger logger, string reason, int active, int queued);

    [LoggerMessage(EventId = 1062, Level = LogLevel.Warning, Message = "Instance metadata ({Cloud}) at {Url} cannot be asked for interruption notices: {Error}; serving on and asking again")]
    public static partial void MetadataUnreachable(ILogger logger, string cloud, Uri url, string error);

    [LoggerMessage(EventId = 1063, Level = LogLevel.Information, Message = "Instance metadata ({Cloud}) at {Url} answers again")]
    public static partial void MetadataReachable(ILogger logger, string cloud, Uri url);
}
