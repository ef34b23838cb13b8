using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using WrinkleFree.Platform.Http;
using Yarp.ReverseProxy.Forwarder;

namespace WrinkleFree.Service.LoadBalancing;

/// <summary>
/// Forwards one client request to a replica with YARP's forwarder: buffers the body so it can be replayed, retries on
/// another replica while nothing has reached the client, counts in-flight requests per attempt, and waits for a first
/// replica while the service scales up from zero.
/// </summary>
internal sealed class ReplicaProxy(
    ServiceLoadBalancerOptions initialOptions,
    ReplicaSet replicas,
    IHttpForwarder forwarder,
    HttpMessageInvoker client,
    TimeProvider time,
    ILogger logger,
    CancellationToken stopping)
{
    /// <summary>Bodies larger than this are sent to a replica only once it has said it will read them (Expect: 100-continue).</summary>
    private const int ExpectContinueBytes = 64 * 1024;

    // Options and the forwarder config made from them are swapped together, so a request reads one consistent pair.
    private volatile Settings _settings = new(initialOptions);
    private int _waiting;

    /// <summary>The options in force for requests arriving now.</summary>
    public ServiceLoadBalancerOptions Options => _settings.Options;

    /// <summary>Applies new per-request options (timeouts, waits, attempts) to requests that arrive from now on.</summary>
    public void Reconfigure(ServiceLoadBalancerOptions options) => _settings = new Settings(options);

    /// <summary>Called once per client request (never per retry) with its arrival time.</summary>
    public Action<DateTimeOffset>? OnRequest { get; set; }

    /// <summary>Called each time a request is retried on another replica.</summary>
    public Action? OnRetry { get; set; }

    /// <summary>Requests now waiting for a first ready replica.</summary>
    public int WaitingRequests => Volatile.Read(ref _waiting);

    public async Task HandleAsync(HttpContext context)
    {
        var settings = _settings;
        var options = settings.Options;
        var requestId = TagRequest(context);
        NotifyRequest();
        if (!await BufferBodyAsync(context, options))
        {
            return;
        }

        var replayable = context.Request.Body as MemoryStream;
        var prefixKey = replicas.Policy is IPrefixAffinityPolicy affinity && replayable is not null ? PrefixKeyOf(replayable, affinity.PrefixBytes) : null;
        var tried = new Destination?[options.MaxAttempts];
        var attempts = 0;
        long? waitStart = null;
        var lastError = ForwarderError.None;
        var lastDraining = false;
        while (true)
        {
            // Read the signal before looking, so a replica added between the look and the wait still wakes us.
            var changed = replicas.Changed;
            var destination = replicas.Acquire(tried.AsSpan(0, attempts), prefixKey);
            if (destination is null)
            {
                if (replicas.ScalingUp && !stopping.IsCancellationRequested)
                {
                    waitStart ??= time.GetTimestamp();
                    var remaining = options.ScaleFromZeroWait - time.GetElapsedTime(waitStart.Value);
                    if (remaining > TimeSpan.Zero)
                    {
                        if (!await WaitForChangeAsync(changed, remaining, context.RequestAborted))
                        {
                            return;
                        }

                        continue;
                    }

                    Log.ScaleFromZeroTimedOut(logger, options.ScaleFromZeroWait, requestId);
                }

                await WriteNoReplicaAsync(context, attempts, lastDraining ? null : lastError, requestId);
                return;
            }

            tried[attempts++] = destination;
            ForwarderError error;
            // The forwarder gives up when RequestAborted fires: for the attempt, that is the client leaving or the
            // controller declaring this replica lost (a dead link answers nothing, not even a reset).
            var clientAborted = context.RequestAborted;
            using var attempt = CancellationTokenSource.CreateLinkedTokenSource(clientAborted, destination.LostToken);
            context.RequestAborted = attempt.Token;
            try
            {
                if (replayable is not null)
                {
                    replayable.Position = 0;
                }

                error = await forwarder.SendAsync(context, destination.Prefix, client, settings.Config, DrainingRefusalTransformer.Instance);
            }
            finally
            {
                context.RequestAborted = clientAborted;
                destination.Release();
            }

            if (error == ForwarderError.None)
            {
                if (!DrainingRefusalTransformer.TakeRefusal(context))
                {
                    return;
                }

                // The replica drains (shutdown or a spot interruption notice) and said so before a byte reached the
                // client: out of rotation now, not at the controller's next probe, and the request goes elsewhere.
                replicas.Drain(destination);
                Log.ReplicaDraining(logger, attempts, destination.Id, requestId);
                lastDraining = true;
                context.Response.Clear();
                if (attempts >= options.MaxAttempts)
                {
                    await WriteAllDrainingAsync(context);
                    return;
                }

                OnRetry?.Invoke();
                continue;
            }

            lastError = error;
            lastDraining = false;
            var exception = context.Features.Get<IForwarderErrorFeature>()?.Exception;
            if (clientAborted.IsCancellationRequested)
            {
                Log.ClientGone(logger, attempts, destination.Id, error, requestId);
                return;
            }

            var lost = destination.LostToken.IsCancellationRequested;
            if (lost)
            {
                Log.ReplicaLost(logger, attempts, destination.Id, requestId);
            }

            var transport = lost || IsTransportFailure(error, exception);
            if (transport)
            {
                replicas.Suspend(destination);
                Log.ReplicaSuspended(logger, attempts, destination.Id, error, options.FailureCooldown, requestId, exception);
            }
            else
            {
                Log.AttemptFailed(logger, attempts, destination.Id, error, requestId, exception);
            }

            if (context.Response.HasStarted)
            {
                // The forwarder already reset the client's connection: a truncated response must not look complete.
                return;
            }

            if (!transport || attempts >= options.MaxAttempts)
            {
                await WriteFailureAsync(context, error);
                return;
            }

            // Nothing reached the client: undo what the failed attempt set so the next one starts clean.
            OnRetry?.Invoke();
            context.Response.Clear();
            context.Features.Set<IForwarderErrorFeature>(null);
        }
    }

    /// <summary>
    /// Gives the request an X-Request-Id (the client's when usable, else a new one) that the forwarder passes to the
    /// replica, whose access log line carries it. The replica echoes it; answers the balancer writes itself (503, 502,
    /// 504, or after a failed attempt cleared the headers) get it here, just before the headers go out.
    /// </summary>
    private static string TagRequest(HttpContext context)
    {
        var headers = context.Request.Headers;
        var requestId = RequestId.FromHeader(headers[RequestId.Header] is { Count: > 0 } sent ? sent[0] : null);
        headers[RequestId.Header] = requestId;
        context.Response.OnStarting(() =>
        {
            context.Response.Headers.TryAdd(RequestId.Header, requestId);
            return Task.CompletedTask;
        });
        return requestId;
    }

    // Failures of the replica's connection, where another replica can take the request: refused, reset, closed
    // mid-body, or a connect that timed out (SocketsHttpHandler reports that as a cancellation wrapping a TimeoutException).
    private static bool IsTransportFailure(ForwarderError error, Exception? exception) => error switch
    {
        ForwarderError.Request or ForwarderError.RequestBodyDestination or ForwarderError.ResponseBodyDestination => true,
        ForwarderError.RequestTimedOut => exception?.InnerException is TimeoutException,
        _ => false,
    };

    private void NotifyRequest()
    {
        var callback = OnRequest;
        if (callback is null)
        {
            return;
        }

        try
        {
            callback(time.GetUtcNow());
        }
        catch (Exception ex)
        {
            Log.RequestCallbackFailed(logger, ex);
        }
    }

    /// <summary>The prompt key of a buffered body; the stream is left at its start for the forwarder.</summary>
    private static ulong? PrefixKeyOf(MemoryStream body, int prefixBytes)
    {
        if (body.TryGetBuffer(out var buffer))
        {
            return PromptPrefixKey.Compute(buffer.AsSpan(0, (int)body.Length), prefixBytes);
        }

        // A body rewritten for usage counting wraps a read-only array that the stream does not expose: read it once.
        var copy = System.Buffers.ArrayPool<byte>.Shared.Rent((int)body.Length);
        try
        {
            body.Position = 0;
            body.ReadExactly(copy, 0, (int)body.Length);
            return PromptPrefixKey.Compute(copy.AsSpan(0, (int)body.Length), prefixBytes);
        }
        finally
        {
            body.Position = 0;
            System.Buffers.ArrayPool<byte>.Shared.Return(copy);
        }
    }

    /// <summary>Reads the body into memory (bounded) so a failed attempt can be replayed; false when answered already.</summary>
    private async Task<bool> BufferBodyAsync(HttpContext context, ServiceLoadBalancerOptions options)
    {
        var request = context.Request;
        if (context.Features.Get<IHttpRequestBodyDetectionFeature>() is { CanHaveBody: false })
        {
            return true;
        }

        if (request.ContentLength > options.MaxRequestBodyBytes)
        {
            await WriteTooLargeAsync(context, options);
            return false;
        }

        var buffer = new MemoryStream(request.ContentLength is { } length ? (int)length : 4096);
        try
        {
            // Kestrel enforces MaxRequestBodySize (set to the same bound) on bodies without a Content-Length.
            await request.Body.CopyToAsync(buffer, context.RequestAborted);
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            await WriteTooLargeAsync(context, options);
            return false;
        }
        catch (IOException ex) when (!context.RequestAborted.IsCancellationRequested)
        {
            // The client is still there but its body is not a body: broken chunked framing (400; Kestrel reports a chunk
            // size that overflows as a plain IOException) or one sent slower than its minimum data rate (408). Say which,
            // as a replica would, and close: the rest of the stream is unreadable. No replica saw it, so none is marked bad.
            await WriteBadBodyAsync(context, ex);
            return false;
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or BadHttpRequestException)
        {
            // The client went away mid-body; there is no one to answer.
            context.Abort();
            return false;
        }

        buffer.Position = 0;
        if (Security.StreamUsage.Wanted(context)
            && Security.StreamUsage.ForceIncludeUsage(buffer.GetBuffer().AsSpan(0, (int)buffer.Length)) is { } withUsage)
        {
            // The key counts tokens: the replica reports a stream's usage, which the endpoint counts and hides.
            buffer = new MemoryStream(withUsage, writable: false);
            request.ContentLength = withUsage.Length;
            context.Items[Security.StreamUsage.HiddenItem] = true;
        }

        request.Body = buffer;
        if (buffer.Length > ExpectContinueBytes)
        {
            // A replica that refuses a large body (413 over its limit, 429 when full) answers before the upload and the
            // refusal comes back as a response. Without this it closes the connection mid-upload, which reads as a
            // transport failure: the replica would be suspended and the client would get a 502.
            request.Headers.Expect = "100-continue";
        }

        return true;
    }

    private async Task<bool> WaitForChangeAsync(Task changed, TimeSpan remaining, CancellationToken aborted)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(aborted, stopping);
        // The bound's timer is armed before the request counts as waiting, so whoever sees it waiting sees a wait the bound
        // will end (a test that then advanced a fake clock could otherwise arm the timer after the advance).
        var wait = changed.WaitAsync(remaining, time, linked.Token);
        Interlocked.Increment(ref _waiting);
        try
        {
            await wait;
        }
        catch (TimeoutException)
        {
            // The bound passed; the caller looks once more and answers 503.
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested && !aborted.IsCancellationRequested)
        {
            // Shutting down: the caller answers 503 rather than holding the host's shutdown.
        }
        catch (OperationCanceledException)
        {
            return false;
        }
        finally
        {
            Interlocked.Decrement(ref _waiting);
        }

        return true;
    }

    /// <param name="lastError">The last attempt's failure; null when the last replica tried refused because it drains.</param>
    private Task WriteNoReplicaAsync(HttpContext context, int attempts, ForwarderError? lastError, string requestId)
    {
        if (attempts > 0)
        {
            return lastError is { } error ? WriteFailureAsync(context, error) : WriteAllDrainingAsync(context);
        }

        Log.NoReadyReplica(logger, context.Request.Path, requestId);
        return OpenAiError.WriteAsync(context, StatusCodes.Status503ServiceUnavailable,
            "No ready replicas. The service has no replica that can take this request; retry after the Retry-After interval.",
            "server_error", "no_ready_replicas", Options.RetryAfter);
    }

    private Task WriteAllDrainingAsync(HttpContext context) =>
        OpenAiError.WriteAsync(context, StatusCodes.Status503ServiceUnavailable,
            "No ready replicas. The replicas tried are draining (shutting down or about to be preempted) and no other replica can take this request; retry after the Retry-After interval.",
            "server_error", "no_ready_replicas", Options.RetryAfter);

    private Task WriteFailureAsync(HttpContext context, ForwarderError error)
    {
        if (error == ForwarderError.RequestTimedOut)
        {
            return OpenAiError.WriteAsync(context, StatusCodes.Status504GatewayTimeout,
                $"The replica sent nothing for {Options.StreamTimeout.TotalSeconds:0} s.", "server_error", "replica_timeout");
        }

        context.Response.Clear();
        return OpenAiError.WriteAsync(context, StatusCodes.Status502BadGateway,
            $"No replica could complete the request ({error}).", "server_error", "replica_unavailable", Options.RetryAfter);
    }

    private static Task WriteTooLargeAsync(HttpContext context, ServiceLoadBalancerOptions options)
    {
        // The unread rest of the body makes the connection unusable; saying so keeps the client from reusing it.
        context.Response.Headers.Connection = "close";
        return OpenAiError.WriteAsync(context, StatusCodes.Status413PayloadTooLarge,
            $"The request body is larger than the load balancer's limit of {options.MaxRequestBodyBytes} bytes.",
            "invalid_request_error", "request_too_large");
    }

    private static async Task WriteBadBodyAsync(HttpContext context, IOException ex)
    {
        if (context.Response.HasStarted)
        {
            context.Abort();
            return;
        }

        var timedOut = ex is BadHttpRequestException { StatusCode: StatusCodes.Status408RequestTimeout };
        context.Response.Headers.Connection = "close";
        try
        {
            await OpenAiError.WriteAsync(context, timedOut ? StatusCodes.Status408RequestTimeout : StatusCodes.Status400BadRequest,
                timedOut
                    ? "The request body arrived slower than the load balancer's minimum data rate; send it at once."
                    : $"The request body's framing is invalid: {ex.Message}",
                "invalid_request_error", timedOut ? "request_timeout" : "invalid_body");
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or InvalidOperationException)
        {
            // The connection broke while answering; nothing more to do.
            context.Abort();
        }
    }

    private sealed class Settings(ServiceLoadBalancerOptions options)
    {
        public ServiceLoadBalancerOptions Options { get; } = options;

        public ForwarderRequestConfig Config { get; } = new()
        {
            ActivityTimeout = options.StreamTimeout,
            // Replicas speak plain HTTP/1.1; asking for it avoids a failed h2c attempt per connection.
            Version = HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
            AllowResponseBuffering = false,
        };
    }
}
