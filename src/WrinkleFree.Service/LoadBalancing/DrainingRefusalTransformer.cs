using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Forwarder;

namespace WrinkleFree.Service.LoadBalancing;

/// <summary>
/// YARP's default transforms, plus one look at a replica's 503: when its OpenAI error code is "draining" (the replica is
/// shutting down or got a spot interruption notice), nothing of it is copied to the client and the request is marked so
/// <see cref="ReplicaProxy"/> retries it on another replica. Any other answer passes through untouched.
/// </summary>
internal sealed class DrainingRefusalTransformer(HttpTransformer inner) : HttpTransformer
{
    /// <summary>The replica's refusal body is a few hundred bytes; anything larger is not that refusal.</summary>
    private const int MaxRefusalBytes = 16 * 1024;

    private static readonly object DrainingKey = new();

    public static DrainingRefusalTransformer Instance { get; } = new(HttpTransformer.Default);

    /// <summary>Whether the last attempt was refused because the replica drains; clears the mark.</summary>
    public static bool TakeRefusal(HttpContext context) => context.Items.Remove(DrainingKey);

    public override ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken) =>
        inner.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken);

    public override async ValueTask<bool> TransformResponseAsync(HttpContext httpContext, HttpResponseMessage? proxyResponse, CancellationToken cancellationToken)
    {
        if (proxyResponse is { StatusCode: HttpStatusCode.ServiceUnavailable } && await IsDrainingRefusalAsync(proxyResponse.Content, cancellationToken))
        {
            // False: the forwarder copies no body, so nothing reached the client and the request can go elsewhere.
            httpContext.Items[DrainingKey] = true;
            return false;
        }

        return await inner.TransformResponseAsync(httpContext, proxyResponse, cancellationToken);
    }

    public override ValueTask TransformResponseTrailersAsync(HttpContext httpContext, HttpResponseMessage proxyResponse, CancellationToken cancellationToken) =>
        inner.TransformResponseTrailersAsync(httpContext, proxyResponse, cancellationToken);

    private static async Task<bool> IsDrainingRefusalAsync(HttpContent content, CancellationToken cancellationToken)
    {
        if (content.Headers.ContentType?.MediaType != "application/json" || content.Headers.ContentLength > MaxRefusalBytes)
        {
            return false;
        }

        // Buffered, so when it is some other 503 the forwarder still copies the whole body to the client.
        await content.LoadIntoBufferAsync(MaxRefusalBytes, cancellationToken);
        var body = await content.ReadAsByteArrayAsync(cancellationToken);
        try
        {
            using var json = JsonDocument.Parse(body);
            return json.RootElement.ValueKind == JsonValueKind.Object
                && json.RootElement.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object
                && error.TryGetProperty("code", out var code) && code.ValueKind == JsonValueKind.String
                && code.ValueEquals("draining");
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
