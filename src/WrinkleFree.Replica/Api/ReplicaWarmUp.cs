using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace WrinkleFree.Replica.Api;

/// <summary>
/// The request path's own warm-up, after the engine's (EngineOptions.WarmUp): a streamed completion, a plain one with
/// logprobs and a streamed chat completion go through the same endpoint code a client's request does (JSON parsing,
/// tokenizer, chat template, engine, SSE and JSON writing), in process and without a socket, so no key, TLS or firewall
/// setting is involved. Until they are answered /health says "loading" and other requests get 503 model_loading; the
/// three stay out of the metrics and the access log. A failure (a chat template that cannot render the message) is
/// logged and does not stop the replica from serving.
/// </summary>
internal static class ReplicaWarmUp
{
    public static async Task RunAsync(ReplicaContext replica)
    {
        var started = replica.Time.GetTimestamp();
        ReplicaContext.EnterWarmUp();
        try
        {
            var model = replica.Backend.ModelId;
            await SendAsync(replica, Routes.Completions, new { model, prompt = "Hello, world", max_tokens = 2, temperature = 0, stream = true, stream_options = new { include_usage = true } });
            await SendAsync(replica, Routes.Completions, new { model, prompt = "Hello, world", max_tokens = 2, temperature = 0.7, top_p = 0.9, logprobs = 2 });
            await SendAsync(replica, Routes.ChatCompletions, new { model, messages = new[] { new { role = "user", content = "Hello" } }, max_tokens = 2, temperature = 0, stream = true });
            WrinkleFree.Replica.Log.WarmedUp(replica.Logger, (long)replica.Time.GetElapsedTime(started).TotalMilliseconds);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Whatever went wrong, the replica serves: a warm-up is worth less than the replica it would stop.
            WrinkleFree.Replica.Log.WarmUpFailed(replica.Logger, e.Message);
        }
        finally
        {
            replica.WarmingUp = false;
        }
    }

    private static async Task SendAsync(ReplicaContext replica, string route, object body)
    {
        var http = new DefaultHttpContext();
        http.Request.Method = HttpMethods.Post;
        http.Request.Path = route;
        http.Request.ContentType = "application/json";
        var bytes = JsonSerializer.SerializeToUtf8Bytes(body);
        http.Request.Body = new MemoryStream(bytes);
        http.Request.ContentLength = bytes.Length;
        http.Response.Body = new MemoryStream();
        http.Features.Set(new RequestUsage());
        if (route == Routes.ChatCompletions)
        {
            await GenerationEndpoints.ChatAsync(http, replica).ConfigureAwait(false);
        }
        else
        {
            await GenerationEndpoints.CompletionsAsync(http, replica).ConfigureAwait(false);
        }

        if (http.Response.StatusCode != StatusCodes.Status200OK)
        {
            throw new InvalidOperationException($"{route} answered {http.Response.StatusCode}: {Encoding.UTF8.GetString(((MemoryStream)http.Response.Body).ToArray())}");
        }
    }
}
