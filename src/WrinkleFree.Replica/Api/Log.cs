using Microsoft.Extensions.Logging;

namespace WrinkleFree.Replica.Api;

internal static partial class Log
{
    [LoggerMessage(EventId = 3001, Level = LogLevel.Error, Message = "Stream on {Path} failed after the response started")]
    public static partial void StreamFailed(ILogger logger, string path, Exception exception);
}
