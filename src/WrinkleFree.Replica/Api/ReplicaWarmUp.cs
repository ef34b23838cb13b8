using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace WrinkleFree.Replica.Api;

/// <summary>
/// The request path's own warm-up, after the engine's (EngineOptions.WarmUp): a streamed completion, a sampled one with
/// logprobs and a streamed chat completion go through the replica's own listener over loopback, so the whole path a
/// client's request takes (Kestrel, middleware, JSON parsing, tokenizer, chat template, engine, SSE and JSON writing) is
/// compiled before the first client arrives. They carry the process's secret (<see cref="ReplicaContext.WarmUpToken"/>),
/// which passes the loading gate and the key check only while warming up, and they stay out of the metrics and the
/// access log. With client-certificate TLS the replica cannot present a certificate to itself, so there the same requests
/// run through the endpoint code in process (no socket). Until they are answered (the host then clears
/// <see cref="ReplicaContext.WarmingUp"/>) /health says "loading" and other requests get 503 model_loading. A failure is logged and does not stop the replica from serving.
/// </summary>
internal static class ReplicaWarmUp
{
    public static async Task RunAsync(ReplicaContext replica, Uri address)
    {
        var started = replica.Time.GetTimestamp();
        try
        {
            var model = replica.Backend.ModelId;
            object[] requests =
            [
                new { model, prompt = "Hello, world", max_tokens = 2, temperature = 0, stream = true, stream_options = new { include_usage = true } },
                new { model, prompt = "Hello, world", max_tokens = 2, temperature = 0.7, top_p = 0.9, logprobs = 2 },
                new { model, messages = new[] { new { role = "user", content = "Hello" } }, max_tokens = 2, temperature = 0, stream = true },
            ];
            string[] routes = [Routes.Completions, Routes.Completions, Routes.ChatCompletions];
            if (replica.Options.TlsClientCaFile is null)
            {
                await OverLoopbackAsync(replica, Loopback(address), routes, requests).ConfigureAwait(false);
            }
            else
            {
                ReplicaContext.EnterWarmUp();
                for (var i = 0; i < routes.Length; i++)
                {
                    await InProcessAsync(replica, routes[i], requests[i]).ConfigureAwait(false);
                }
            }

            if (WrinkleFree.Platform.Processes.EagerTiering.Active)
            {
                await UntilTheJitSettlesAsync().ConfigureAwait(false);
            }

            replica.WarmUpOutcome = "ok";
            WrinkleFree.Replica.Log.WarmedUp(replica.Logger, (long)replica.Time.GetElapsedTime(started).TotalMilliseconds);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Whatever went wrong, the replica serves: a warm-up is worth less than the replica it would stop.
            replica.WarmUpOutcome = e.Message;
            WrinkleFree.Replica.Log.WarmUpFailed(replica.Logger, e.Message);
        }
    }

    /// <summary>
    /// Waits (at most 2 s) until no method has been compiled for 100 ms. The warm-up's requests leave the runtime promoting
    /// what they called to optimized code on a background thread; a first request arriving meanwhile shares the cores with
    /// that compiler (measured with <c>ReplicaBench cold</c>, 700m, 2 threads: the first request at 73-84 % of the later
    /// ones in three of six rounds without the wait, 84-102 % with it; "ready" about 1 s later). Only where promotion is
    /// eager (<see cref="WrinkleFree.Platform.Processes.EagerTiering.Active"/>, as `wf replica` makes it): with the
    /// runtime's default delay the compiler does not go quiet this soon, and a host running replicas in process (tests)
    /// would wait out the cap every time.
    /// </summary>
    internal static async Task UntilTheJitSettlesAsync()
    {
        var deadline = Environment.TickCount64 + 2000;
        var last = System.Runtime.JitInfo.GetCompiledMethodCount();
        var quiet = 0;
        while (quiet < 2 && Environment.TickCount64 < deadline)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(50)).ConfigureAwait(false);
            var now = System.Runtime.JitInfo.GetCompiledMethodCount();
            quiet = now == last ? quiet + 1 : 0;
            last = now;
        }
    }

    /// <summary>The bound address as this process reaches it: a wildcard listener (0.0.0.0, [::]) through loopback.</summary>
    internal static Uri Loopback(Uri address)
    {
        var host = address.Host.Trim('[', ']');
        if (!IPAddress.TryParse(host, out var ip) || (!ip.Equals(IPAddress.Any) && !ip.Equals(IPAddress.IPv6Any)))
        {
            return address;
        }

        return new UriBuilder(address) { Host = ip.Equals(IPAddress.Any) ? "127.0.0.1" : "[::1]" }.Uri;
    }

    private static async Task OverLoopbackAsync(ReplicaContext replica, Uri address, string[] routes, object[] requests)
    {
        using var handler = new SocketsHttpHandler
        {
            // Talking to itself: the certificate is the one this process serves, whatever name it was issued for.
            SslOptions = { RemoteCertificateValidationCallback = (_, _, _, _) => true },
        };
        using var http = new HttpClient(handler) { BaseAddress = address, Timeout = TimeSpan.FromMinutes(5) };
        for (var i = 0; i < routes.Length; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, routes[i].TrimStart('/'))
            {
                Content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(requests[i])) { Headers = { ContentType = new("application/json") } },
            };
            request.Headers.Add(ReplicaContext.WarmUpHeader, replica.WarmUpToken);
            using var response = await http.SendAsync(request).ConfigureAwait(false);
            var body = await response.Content.ReadAsStringAsync().ConfigureAwait(false);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                throw new InvalidOperationException($"{routes[i]} answered {(int)response.StatusCode}: {body}");
            }
        }
    }

    private static async Task InProcessAsync(ReplicaContext replica, string route, object body)
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
