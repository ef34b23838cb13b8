using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using WrinkleFree.Replica.Backends;

namespace WrinkleFree.Replica.Api;

/// <summary>Builds and writes errors in the OpenAI shape <c>{"error":{"message","type","param","code"}}</c>.</summary>
internal static class ApiErrors
{
    public static BackendException BadRequest(string message, string? param, string? code = null) =>
        new(400, "invalid_request_error", message, param, code);

    public static BackendException NotFound(string message, string? code = "not_found") =>
        new(404, "invalid_request_error", message, null, code);

    public static async Task WriteAsync(HttpContext context, BackendException error)
    {
        var response = context.Response;
        response.StatusCode = error.Status;
        response.ContentType = "application/json";
        if (error.RetryAfter is { } retry)
        {
            response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retry.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        }

        var writer = new Utf8JsonWriter(response.BodyWriter);
        await using (writer.ConfigureAwait(false))
        {
            WriteObject(writer, error);
            await writer.FlushAsync(context.RequestAborted).ConfigureAwait(false);
        }
    }

    /// <summary>Writes <c>{"error":{...}}</c> (also used inside an SSE stream when an error happens mid-stream).</summary>
    public static void WriteObject(Utf8JsonWriter w, BackendException error)
    {
        w.WriteStartObject();
        w.WriteStartObject("error");
        w.WriteString("message", error.Message);
        w.WriteString("type", error.Type);
        WriteNullable(w, "param", error.Param);
        WriteNullable(w, "code", error.Code);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void WriteNullable(Utf8JsonWriter w, string name, string? value)
    {
        if (value is null)
        {
            w.WriteNull(name);
        }
        else
        {
            w.WriteString(name, value);
        }
    }
}
