using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using WrinkleFree.Service.Security;

namespace WrinkleFree.Service.Daemon;

/// <summary>The API keys part of the daemon: POST/GET /keys, POST /keys/{id}/revoke, and pushing keys to endpoints.</summary>
public sealed partial class ServiceDaemon
{
    private volatile EndpointAuth _auth = EndpointAuth.Open;
    private AdminGuard? _guard;

    /// <summary>The keys every endpoint enforces now (hashes, limits and the replicas' key).</summary>
    internal EndpointAuth CurrentAuth => _auth;

    /// <summary>A one-time URL that opens the status page in a browser (see <see cref="AdminGuard"/>).</summary>
    public Uri CreateStatusLink() =>
        new(Info.AdminUrl, $"{Status.StatusPage.Path.TrimStart('/')}?{AdminGuard.LoginParameter}={(_guard ?? throw new InvalidOperationException("the admin API is not started")).CreateStatusLogin()}");

    private async Task LoadKeysAsync(CancellationToken cancellationToken) =>
        _auth = EndpointAuth.From(await _store.ListApiKeysAsync(null, cancellationToken).ConfigureAwait(false), _replicaKey);

    private IReadOnlyDictionary<string, string> ReplicaEnvironment()
    {
        if (_replicaKey is null)
            return _options.ReplicaEnvironment;
        var environment = new Dictionary<string, string>(_options.ReplicaEnvironment, StringComparer.Ordinal)
        {
            [ReplicaKeyFile.Variable] = ReplicaKeyFile.PathIn(_options.Home),
        };
        return environment;
    }

    /// <summary>
    /// Puts the replica key beside the file_sd files as <c>replica.key</c>, Prometheus' credentials_file for scraping
    /// replicas (and the endpoints' /metrics, which accept it too). Owner read-write, group read: on a server the
    /// prometheus user reads it through the folder's group, as it reads the target files; no one else can.
    /// </summary>
    private void WriteScrapeKey(string folder)
    {
        if (_replicaKey is null)
            return;
        var path = Path.Combine(folder, ReplicaKeyFile.FileName);
        if (File.Exists(path))
            return;
        PrometheusTargets.EnsureFolder(folder);
        Platform.Files.AtomicFile.WriteAllText(path, _replicaKey + "\n", UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);
    }

    private void MapKeys(WebApplication app)
    {
        app.MapPost("/keys", CreateKeyAsync);
        app.MapGet("/keys", ListKeysAsync);
        app.MapPost("/keys/{id}/revoke", RevokeKeyAsync);
        app.MapPost("/status/link", () => Results.Json(new StatusLink(CreateStatusLink().ToString()), DaemonJsonContext.Default.StatusLink));
    }

    private async Task CreateKeyAsync(HttpContext context)
    {
        var ct = context.RequestAborted;
        var request = await ReadAsync(context, DaemonJsonContext.Default.NewApiKey).ConfigureAwait(false);
        if (request is null)
            return;
        if (request.Problem(_time.GetUtcNow()) is { } problem)
        {
            await Error(context, 400, problem, "invalid_value").ConfigureAwait(false);
            return;
        }
        await _changes.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (request.Service is { } service && !_controllers.ContainsKey(service))
            {
                // A typo would otherwise make a key for no service at all.
                var known = string.Join(", ", _controllers.Keys.Order(StringComparer.Ordinal));
                await Error(context, 404, $"no service named '{service}'" + (known.Length > 0 ? $"; services: {known}" : "; `wf up SPEC` starts one"), "unknown_service").ConfigureAwait(false);
                return;
            }
            var (key, id, hash) = ApiKeySecret.Generate();
            var record = await _store.CreateApiKeyAsync(id, hash, request, CancellationToken.None).ConfigureAwait(false);
            await PushKeysAsync(CancellationToken.None).ConfigureAwait(false);
            context.Response.StatusCode = 201;
            await context.Response.WriteAsJsonAsync(new CreatedApiKey { Key = key, Record = record }, DaemonJsonContext.Default.CreatedApiKey, cancellationToken: ct).ConfigureAwait(false);
        }
        finally
        {
            _changes.Release();
        }
    }

    private async Task ListKeysAsync(HttpContext context)
    {
        var service = context.Request.Query["service"] is [{ } s] ? s : null;
        var keys = await _store.ListApiKeysAsync(service, context.RequestAborted).ConfigureAwait(false);
        await context.Response.WriteAsJsonAsync(keys.ToList(), DaemonJsonContext.Default.ListApiKeyRecord, cancellationToken: context.RequestAborted).ConfigureAwait(false);
    }

    private async Task RevokeKeyAsync(HttpContext context, string id)
    {
        await _changes.WaitAsync(context.RequestAborted).ConfigureAwait(false);
        try
        {
            var record = await _store.RevokeApiKeyAsync(id, CancellationToken.None).ConfigureAwait(false);
            if (record is null)
            {
                await Error(context, 404, $"no API key with id '{id}'; `wf keys list` shows them", "unknown_key").ConfigureAwait(false);
                return;
            }
            await PushKeysAsync(CancellationToken.None).ConfigureAwait(false);
            await context.Response.WriteAsJsonAsync(record, DaemonJsonContext.Default.ApiKeyRecord, cancellationToken: context.RequestAborted).ConfigureAwait(false);
        }
        finally
        {
            _changes.Release();
        }
    }

    /// <summary>
    /// Reloads the keys and tells every endpoint, returning once each has them in force. An endpoint that cannot be told
    /// now (its process is restarting) gets them when it starts: the client keeps the latest set for its next launch.
    /// </summary>
    private async Task PushKeysAsync(CancellationToken cancellationToken)
    {
        await LoadKeysAsync(cancellationToken).ConfigureAwait(false);
        var auth = _auth;
        var failures = new List<string>();
        await Task.WhenAll(_controllers.Values.Select(async controller =>
        {
            try
            {
                using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                bound.CancelAfter(TimeSpan.FromSeconds(10));
                await controller.SetAuthAsync(auth, bound.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is HttpRequestException or OperationCanceledException or IOException)
            {
                lock (failures)
                    failures.Add(string.Create(CultureInfo.InvariantCulture, $"{controller.Name}: {e.Message}"));
            }
        })).ConfigureAwait(false);
        foreach (var failure in failures)
            Log.KeysNotPushed(_logger, failure);
    }
}
