using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace WrinkleFree.Service.LoadBalancing;

/// <summary>Writes errors in the OpenAI shape <c>{"error":{"message","type","param","code"}}</c> clients already parse.</summary>
internal static class OpenAiError
{
    public static Task WriteAsync(HttpContext context, int status, string message, string type, string code, TimeSpan? retryAfter = null)
    {
        context.Response.StatusCode = status;
        if (retryAfter is { } after)
        {
            context.Response.Headers.RetryAfter = ((int)Math.Ceiling(after.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        }

        context.Response.ContentType = "application/json";
        var body = JsonSerializer.SerializeToUtf8Bytes(new ErrorBody(new ErrorDetail(message, type, null, code)), ErrorJsonContext.Default.ErrorBody);
        return context.Response.Body.WriteAsync(body, context.RequestAborted).AsTask();
    }

    internal sealed record ErrorBody(ErrorDetail Error);

    internal sealed record ErrorDetail(string Message, string Type, string? Param, string Code);
}
