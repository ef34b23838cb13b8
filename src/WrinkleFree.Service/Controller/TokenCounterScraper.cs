using System.Net.Http.Headers;
using WrinkleFree.Service.Cost;

namespace WrinkleFree.Service.Controller;

/// <summary>
/// Reads replicas' token counters from their /metrics (with the daemon's replica key, over the controller's mTLS client),
/// for <c>wf cost</c>. A replica that does not answer, or whose page has no token counters, gives nothing this round.
/// </summary>
internal sealed class TokenCounterScraper(HttpClient http)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    // Enough at once to sweep a large fleet within a tick, few enough not to flood the controller's connections.
    private const int Parallelism = 16;

    /// <summary>Scrapes every (replica id, endpoint) given; returns the counters read.</summary>
    public async Task<IReadOnlyList<TokenCounters>> ScrapeAsync(
        string service, IReadOnlyList<(int ReplicaId, string Endpoint)> replicas, string? replicaKey, CancellationToken cancellationToken)
    {
        var found = new TokenCounters?[replicas.Count];
        await Parallel.ForAsync(0, replicas.Count, new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = cancellationToken }, async (i, ct) =>
        {
            var (id, endpoint) = replicas[i];
            if (await ReadAsync(endpoint, replicaKey, ct).ConfigureAwait(false) is { } tokens)
                found[i] = new TokenCounters(service, id, tokens.Generated, tokens.Prompt);
        }).ConfigureAwait(false);
        return [.. found.OfType<TokenCounters>()];
    }

    private async Task<(long Generated, long Prompt)?> ReadAsync(string endpoint, string? replicaKey, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Timeout);
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, endpoint.TrimEnd('/') + "/metrics");
            if (replicaKey is not null)
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", replicaKey);
            using var response = await http.SendAsync(request, timeout.Token).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
                return null;
            return PrometheusCounters.ReadTokens(await response.Content.ReadAsStringAsync(timeout.Token).ConfigureAwait(false));
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }
}
