using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Net.Http.Headers;
using WrinkleFree.Service.LoadBalancing;

namespace WrinkleFree.Service.Security;

/// <summary>
/// The key check in front of every route of a service endpoint except <c>/health</c>, which stays public on purpose:
/// it is the liveness route edges and uptime checks call without a key, and it says only how many replicas are ready.
/// An admitted request's Authorization header is replaced with the replicas' internal key, so a client's key never
/// leaves the endpoint; its tokens are counted from the replica's reported usage when its key has a tokens/min limit (streams included:
/// <see cref="StreamUsage"/>).
/// </summary>
internal sealed class EndpointAuthMiddleware(ApiKeyGate gate, string service, ILogger logger)
{
    /// <summary>The deliberately public liveness route.</summary>
    public const string PublicPath = "/health";

    public async Task InvokeAsync(HttpContext context, Func<Task> next)
    {
        var path = context.Request.Path;
        if (path == PublicPath)
        {
            await next().ConfigureAwait(false);
            return;
        }

        var request = context.Request;
        var admission = gate.Admit(request.Headers.Authorization, internalAllowed: path == "/metrics");
        if (!admission.Admitted)
        {
            Log.Refused(logger, service, request.Method, path, admission.Status, admission.Code);
            await OpenAiError.WriteAsync(context, admission.Status, admission.Message, admission.Type, admission.Code, admission.RetryAfter).ConfigureAwait(false);
            return;
        }

        if (gate.ReplicaKey is { } replicaKey)
            request.Headers[HeaderNames.Authorization] = "Bearer " + replicaKey;
        else if (!gate.IsOpen)
            request.Headers.Remove(HeaderNames.Authorization);

        UsageTap? tap = null;
        var body = context.Response.Body;
        if (admission.Key?.Tpm is not null && path.StartsWithSegments("/v1"))
        {
            // A stream counts too: the balancer asks the replica for the usage chunk the client may not have asked for.
            context.Items[StreamUsage.WantedItem] = true;
            tap = new UsageTap(body, () => StreamUsage.Hidden(context) && context.Response.ContentLength is null);
            context.Response.Body = tap;
        }

        try
        {
            await next().ConfigureAwait(false);
            if (tap is not null)
                await tap.CompleteAsync(context.RequestAborted).ConfigureAwait(false);
        }
        catch (Exception e) when (tap is not null && e is IOException or OperationCanceledException && context.RequestAborted.IsCancellationRequested)
        {
            // The client left while the rest of its stream was being sent; its tokens still count below.
        }
        finally
        {
            if (tap is not null)
                context.Response.Body = body;
            gate.Release(admission, tap?.Tokens() ?? 0);
        }
    }
}
