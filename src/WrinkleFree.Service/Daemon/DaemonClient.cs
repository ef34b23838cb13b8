using System.Globalization;
using System.Net.Http.Json;
using System.Runtime.CompilerServices;
using System.Text.Json;

namespace WrinkleFree.Service.Daemon;

/// <summary>The CLI's side of the admin API: one method per endpoint, errors as <see cref="DaemonApiException"/>.</summary>
public sealed class DaemonClient : IDisposable
{
    private readonly HttpClient _http;

    /// <summary>A client of the admin API at <paramref name="adminUrl"/> that sends the admin <paramref name="token"/>.</summary>
    public DaemonClient(Uri adminUrl, string? token)
    {
        // Deleting a service drains its replicas, which may take minutes: callers bound waits with their tokens.
        _http = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = adminUrl, Timeout = Timeout.InfiniteTimeSpan };
        if (token is not null)
            _http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
    }

    /// <summary>
    /// Connects to the daemon that daemon.json in <paramref name="home"/> names, or returns null when there is none or it
    /// is stale (its process is gone or its port does not answer).
    /// </summary>
    public static async Task<DaemonClient?> ConnectAsync(string home, CancellationToken cancellationToken)
    {
        if (DaemonInfo.TryRead(home) is not { ProcessExists: true } info)
            return null;
        var client = new DaemonClient(info.AdminUrl, info.Token);
        try
        {
            using var ping = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            ping.CancelAfter(TimeSpan.FromSeconds(5));
            using var response = await client._http.GetAsync("services", ping.Token).ConfigureAwait(false);
            if (response.IsSuccessStatusCode)
                return client;
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            // Stale: a process reused the pid, or the daemon is wedged.
        }
        client.Dispose();
        return null;
    }

    /// <summary>POST /services: creates and starts a service.</summary>
    public async Task<ServiceView> CreateAsync(CreateServiceRequest request, CancellationToken cancellationToken)
    {
        using var response = await _http.PostAsJsonAsync("services", request, DaemonJsonContext.Default.CreateServiceRequest, cancellationToken).ConfigureAwait(false);
        return await ReadAsync(response, DaemonJsonContext.Default.ServiceView, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>GET /services: every service with its replicas.</summary>
    public async Task<IReadOnlyList<ServiceView>> ListAsync(CancellationToken cancellationToken)
    {
        using var response = await _http.GetAsync("services", cancellationToken).ConfigureAwait(false);
        return await ReadAsync(response, DaemonJsonContext.Default.ListServiceView, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>GET /services/{name}.</summary>
    public async Task<ServiceView> GetAsync(string name, CancellationToken cancellationToken)
    {
        using var response = await _http.GetAsync("services/" + Uri.EscapeDataString(name), cancellationToken).ConfigureAwait(false);
        return await ReadAsync(response, DaemonJsonContext.Default.ServiceView, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>POST /services/{name}/update: a new min_replicas or a new spec.</summary>
    public async Task<ServiceView> UpdateAsync(string name, UpdateServiceRequest request, CancellationToken cancellationToken)
    {
        using var response = await _http.PostAsJsonAsync($"services/{Uri.EscapeDataString(name)}/update", request, DaemonJsonContext.Default.UpdateServiceRequest, cancellationToken).ConfigureAwait(false);
        return await ReadAsync(response, DaemonJsonContext.Default.ServiceView, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>DELETE /services/{name}: drains and stops every replica, then forgets the service.</summary>
    public async Task DeleteAsync(string name, CancellationToken cancellationToken)
    {
        using var response = await _http.DeleteAsync("services/" + Uri.EscapeDataString(name), cancellationToken).ConfigureAwait(false);
        await ThrowIfErrorAsync(response, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>GET /services/{name}/logs: a replica's output lines (the first replica's when none is named).</summary>
    public async IAsyncEnumerable<string> LogsAsync(string name, int? replica, int? tail, bool follow, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var query = new List<string>();
        if (replica is { } r)
            query.Add("replica=" + r.ToString(CultureInfo.InvariantCulture));
        if (tail is { } t)
            query.Add("tail=" + t.ToString(CultureInfo.InvariantCulture));
        if (follow)
            query.Add("follow=true");
        var url = $"services/{Uri.EscapeDataString(name)}/logs" + (query.Count > 0 ? "?" + string.Join('&', query) : "");
        using var response = await _http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        await ThrowIfErrorAsync(response, cancellationToken).ConfigureAwait(false);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false));
        while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
            yield return line;
    }

    /// <summary>
    /// GET /services/{name}/events: the latest <paramref name="limit"/> events, or those after <paramref name="afterId"/>;
    /// oldest first.
    /// </summary>
    public async Task<IReadOnlyList<ServiceEventView>> EventsAsync(string name, long? afterId, int limit, CancellationToken cancellationToken)
    {
        var url = $"services/{Uri.EscapeDataString(name)}/events?limit={limit.ToString(CultureInfo.InvariantCulture)}"
            + (afterId is { } after ? "&after=" + after.ToString(CultureInfo.InvariantCulture) : "");
        using var response = await _http.GetAsync(url, cancellationToken).ConfigureAwait(false);
        return await ReadAsync(response, DaemonJsonContext.Default.ListServiceEventView, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>POST /keys: creates an API key; the answer holds the key itself, which nothing shows again.</summary>
    public async Task<CreatedApiKey> CreateKeyAsync(Security.NewApiKey key, CancellationToken cancellationToken)
    {
        using var response = await _http.PostAsJsonAsync("keys", key, DaemonJsonContext.Default.NewApiKey, cancellationToken).ConfigureAwait(false);
        return await ReadAsync(response, DaemonJsonContext.Default.CreatedApiKey, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>GET /keys: every key (those that apply to <paramref name="service"/> when given), without secrets.</summary>
    public async Task<IReadOnlyList<Security.ApiKeyRecord>> ListKeysAsync(string? service, CancellationToken cancellationToken)
    {
        using var response = await _http.GetAsync("keys" + (service is null ? "" : "?service=" + Uri.EscapeDataString(service)), cancellationToken).ConfigureAwait(false);
        return await ReadAsync(response, DaemonJsonContext.Default.ListApiKeyRecord, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>POST /keys/{id}/revoke: returns once every endpoint refuses the key.</summary>
    public async Task<Security.ApiKeyRecord> RevokeKeyAsync(string id, CancellationToken cancellationToken)
    {
        using var response = await _http.PostAsync($"keys/{Uri.EscapeDataString(id)}/revoke", null, cancellationToken).ConfigureAwait(false);
        return await ReadAsync(response, DaemonJsonContext.Default.ApiKeyRecord, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>GET /cost: replica-hours, dollars and tokens since <paramref name="since"/>, for one service or all.</summary>
    public async Task<Cost.CostReport> CostAsync(string? service, DateTimeOffset since, CancellationToken cancellationToken)
    {
        var url = "cost?since=" + Uri.EscapeDataString(since.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture))
            + (service is null ? "" : "&service=" + Uri.EscapeDataString(service));
        using var response = await _http.GetAsync(url, cancellationToken).ConfigureAwait(false);
        return await ReadAsync(response, DaemonJsonContext.Default.CostReport, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>POST /status/link: a one-time URL that opens the status page in a browser (it sets a session cookie).</summary>
    public async Task<Uri> StatusLinkAsync(CancellationToken cancellationToken)
    {
        using var response = await _http.PostAsync("status/link", null, cancellationToken).ConfigureAwait(false);
        var link = await ReadAsync(response, DaemonJsonContext.Default.StatusLink, cancellationToken).ConfigureAwait(false);
        return new Uri(link.Url);
    }

    /// <inheritdoc />
    public void Dispose() => _http.Dispose();

    private static async Task<T> ReadAsync<T>(HttpResponseMessage response, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, CancellationToken cancellationToken)
    {
        await ThrowIfErrorAsync(response, cancellationToken).ConfigureAwait(false);
        return await response.Content.ReadFromJsonAsync(type, cancellationToken).ConfigureAwait(false)
            ?? throw new DaemonApiException((int)response.StatusCode, "empty", "the daemon answered with an empty body");
    }

    private static async Task ThrowIfErrorAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
            return;
        var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        var (message, code) = ($"the daemon answered {(int)response.StatusCode}: {text}", "http_error");
        try
        {
            using var doc = JsonDocument.Parse(text);
            var error = doc.RootElement.GetProperty("error");
            message = error.GetProperty("message").GetString() ?? message;
            code = error.TryGetProperty("code", out var c) ? c.GetString() ?? code : code;
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            // Not the OpenAI error shape: keep the raw text.
        }
        throw new DaemonApiException((int)response.StatusCode, code, message);
    }
}
