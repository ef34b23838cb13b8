using Microsoft.Extensions.Logging;

namespace WrinkleFree.Replica.Backends.BitNet;

internal static partial class Log
{
    [LoggerMessage(EventId = 2001, Level = LogLevel.Information, Message = "Loading model {Path}")]
    public static partial void Loading(ILogger logger, string path);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Information, Message = "Model {Name} ready: context {Context} tokens, chat template {Template}, warm-up {WarmUpMs} ms")]
    public static partial void Loaded(ILogger logger, string name, int context, string template, long warmUpMs);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Error, Message = "Model {Path} failed to load")]
    public static partial void LoadFailed(ILogger logger, string path, Exception exception);

    // The cause only: the engine goes on, and a stack trace per failed request would flood the log.
    [LoggerMessage(EventId = 2004, Level = LogLevel.Warning, Message = "A request failed in the engine, which goes on serving: {Cause}")]
    public static partial void SequenceFault(ILogger logger, string cause);
}
