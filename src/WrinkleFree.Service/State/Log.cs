using Microsoft.Extensions.Logging;

namespace WrinkleFree.Service.State;

internal static partial class Log
{
    [LoggerMessage(6300, LogLevel.Information, "State database {Path}: migrated schema from version {From} to {To}")]
    public static partial void Migrated(ILogger logger, string path, int from, int to);
}
