using Microsoft.Extensions.Logging;

namespace WrinkleFree.Replica.Api;

internal static partial class Log
{
    [LoggerMessage(EventId = 3001, Level = LogLevel.Error, Message = "Stream on {Path} failed after the response started")]
    public static partial void StreamFailed(ILogger logger, string path, Exception exception);

    [LoggerMessage(EventId = 3002, Message = "{Method} {Route} {Status} prompt_tokens={PromptTokens} generated_tokens={GeneratedTokens} ttft_ms={TtftMs} duration_ms={DurationMs:F1} request_id={RequestId}")]
    public static partial void Access(ILogger logger, LogLevel level, string method, string route, int status, int promptTokens, int generatedTokens, string ttftMs, double durationMs, string requestId);
}
