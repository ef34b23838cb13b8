using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using WrinkleFree.Platform.Http;

namespace WrinkleFree.Replica.Backends.Vllm;

/// <summary>
/// Owns the upstream's lifecycle: starts the command (when given), polls /health until ready, watches it, marks it
/// Unavailable when the process exits or health fails repeatedly, and restarts a supervised process with backoff.
/// </summary>
internal sealed class UpstreamSupervisor : IAsyncDisposable
{
    private static readonly Task Never = new TaskCompletionSource().Task;

    private readonly VllmBackendOptions _options;
    private readonly HttpClient _http;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _gate = new();
    private TaskCompletionSource _stateChanged = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile BackendState _state = BackendState.Loading;
    private volatile Uri _baseUri;
    private volatile UpstreamProcess? _process;
    private volatile UpstreamReport? _report;
    private volatile string? _modelId;
    private Task _loop = Task.CompletedTask;
    private int _disposed;

    public UpstreamSupervisor(VllmBackendOptions options, HttpClient http, ILogger logger, TimeProvider time)
    {
        _options = options;
        _http = http;
        _logger = logger;
        _time = time;
        _baseUri = options.UpstreamUrl ?? new Uri("http://127.0.0.1/");
    }

    public BackendState State => _state;

    /// <summary>The upstream's own model id from GET /v1/models, once known.</summary>
    public string? UpstreamModelId => _modelId;

    /// <summary>The upstream model's max_model_len from GET /v1/models, when it lists one (vLLM does).</summary>
    public int? UpstreamContextLength { get; private set; }

    /// <summary>Process id (and process group id) of the supervised upstream, while one runs.</summary>
    public int? ProcessId => _process?.Id;

    /// <summary>Load the upstream reported in its last healthy /health JSON (null fields when it does not report them).</summary>
    public UpstreamReport? Report => _report;

    /// <summary>The upstream address for <paramref name="path"/>, keeping any path prefix of the configured URL.</summary>
    public Uri Endpoint(string path) => new(_baseUri.AbsoluteUri.TrimEnd('/') + path);

    public void Start() => _loop = Task.Run(() => RunAsync(_stopping.Token));

    public async Task WaitForStateAsync(BackendState state, CancellationToken cancellationToken)
    {
        while (true)
        {
            // Read the signal before the state so that a change between the two cannot be missed.
            var changed = Volatile.Read(ref _stateChanged).Task;
            if (_state == state)
            {
                return;
            }

            await changed.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (_process is { } process)
        {
            await process.StopAsync(_options.StopGracePeriod, _time).ConfigureAwait(false);
            process.Dispose();
            _process = null;
        }

        SetState(BackendState.Unavailable, "backend disposed");
        _stopping.Dispose();
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        var attempt = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                var process = StartProcess();
                if (await WaitHealthyAsync(process, cancellationToken).ConfigureAwait(false))
                {
                    attempt = 0;
                    await DiscoverModelAsync(cancellationToken).ConfigureAwait(false);
                    SetState(BackendState.Ready, "health check passed");
                    var reason = await MonitorAsync(process, cancellationToken).ConfigureAwait(false);
                    SetState(BackendState.Unavailable, reason);
                }
                else
                {
                    SetState(BackendState.Unavailable, process is { Exited.IsCompleted: true } ? "the upstream process exited while starting" : "startup timed out");
                }

                if (process is not null)
                {
                    await process.StopAsync(_options.StopGracePeriod, _time).ConfigureAwait(false);
                    process.Dispose();
                    _process = null;
                    await RestartDelayAsync(attempt++, cancellationToken).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // Keep supervising: a failed start (bad command, no free port) is retried like a crash.
                Log.SupervisorFailed(_logger, e);
                SetState(BackendState.Unavailable, e.Message);
                if (_process is { } process)
                {
                    await process.StopAsync(_options.StopGracePeriod, _time).ConfigureAwait(false);
                    process.Dispose();
                    _process = null;
                }

                try
                {
                    await RestartDelayAsync(attempt++, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private UpstreamProcess? StartProcess()
    {
        if (_options.UpstreamCommand is not { } command)
        {
            return null;
        }

        var port = _options.UpstreamUrl?.Port ?? FreeLocalPort();
        _baseUri = _options.UpstreamUrl ?? new Uri($"http://127.0.0.1:{port}/");
        var process = UpstreamProcess.Start(command, port, _logger);
        _process = process;
        return process;
    }

    private async Task RestartDelayAsync(int attempt, CancellationToken cancellationToken)
    {
        var delay = _options.BackoffFor(attempt);
        Log.RestartScheduled(_logger, delay, attempt + 1);
        await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Polls until healthy; false when the process exits or (supervised only) the startup deadline passes.</summary>
    private async Task<bool> WaitHealthyAsync(UpstreamProcess? process, CancellationToken cancellationToken)
    {
        var started = _time.GetTimestamp();
        while (true)
        {
            var (healthy, reason) = await CheckHealthAsync(cancellationToken).ConfigureAwait(false);
            if (healthy)
            {
                return true;
            }

            if (process is { Exited.IsCompleted: true })
            {
                return false;
            }

            if (_time.GetElapsedTime(started) >= _options.StartupTimeout)
            {
                Log.StartupTimedOut(_logger, _options.StartupTimeout);
                if (process is not null)
                {
                    return false;
                }

                // An external upstream cannot be restarted by us: report it down and keep waiting for it.
                SetState(BackendState.Unavailable, reason);
            }

            await PauseAsync(process, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Watches a ready upstream; returns why it stopped being ready.</summary>
    private async Task<string> MonitorAsync(UpstreamProcess? process, CancellationToken cancellationToken)
    {
        var failures = 0;
        while (true)
        {
            await PauseAsync(process, cancellationToken).ConfigureAwait(false);
            if (process is { Exited.IsCompleted: true })
            {
                return "the upstream process exited";
            }

            var (healthy, reason) = await CheckHealthAsync(cancellationToken).ConfigureAwait(false);
            if (healthy)
            {
                failures = 0;
                continue;
            }

            Log.HealthCheckFailed(_logger, ++failures, reason);
            if (failures >= _options.UnhealthyThreshold)
            {
                return $"{failures} health checks failed in a row: {reason}";
            }
        }
    }

    /// <summary>Waits one health interval, or less when the supervised process exits meanwhile.</summary>
    private async Task PauseAsync(UpstreamProcess? process, CancellationToken cancellationToken)
    {
        await Task.WhenAny(Task.Delay(_options.HealthInterval, _time, cancellationToken), process?.Exited ?? Never).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
    }

    private async Task<(bool Healthy, string Reason)> CheckHealthAsync(CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(_options.HealthTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            using var response = await _http.GetAsync(Endpoint(_options.HealthPath), HttpCompletionOption.ResponseContentRead, linked.Token).ConfigureAwait(false);
            var body = await response.Content.ReadAsStringAsync(linked.Token).ConfigureAwait(false);
            var (status, report) = ParseHealth(body);

            // An overloaded upstream (wf replica answers 503 "overloaded") is alive: restarting it would lose its work.
            var healthy = response.StatusCode == HttpStatusCode.OK
                || (response.StatusCode == HttpStatusCode.ServiceUnavailable && status == "overloaded");
            if (healthy)
            {
                _report = report;
            }

            return (healthy, $"{(int)response.StatusCode} {status ?? response.ReasonPhrase}");
        }
        catch (HttpRequestException e)
        {
            return (false, e.Message);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return (false, $"no answer within {_options.HealthTimeout}");
        }
    }

    private static (string? Status, UpstreamReport? Report) ParseHealth(string body)
    {
        if (!body.TrimStart().StartsWith('{'))
        {
            // vLLM answers an empty 200.
            return (null, null);
        }

        try
        {
            using var json = JsonDocument.Parse(body);
            var root = json.RootElement;
            var status = root.TryGetProperty("status", out var s) && s.ValueKind == JsonValueKind.String ? s.GetString() : null;
            var active = Int(root, "active_requests");
            var queue = Int(root, "queue_depth");
            return (status, active is null && queue is null ? null : new UpstreamReport(active, queue));
        }
        catch (JsonException)
        {
            return (null, null);
        }

        static int? Int(JsonElement root, string name) =>
            root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var n) ? n : null;
    }

    private async Task DiscoverModelAsync(CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(_options.HealthTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            using var response = await _http.GetAsync(Endpoint("/v1/models"), linked.Token).ConfigureAwait(false);
            response.EnsureSuccessStatusCode();
            await using var stream = await response.Content.ReadAsStreamAsync(linked.Token).ConfigureAwait(false);
            using var json = await JsonDocument.ParseAsync(stream, cancellationToken: linked.Token).ConfigureAwait(false);
            if (json.RootElement.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.Array
                && data.GetArrayLength() > 0 && data[0].TryGetProperty("id", out var id) && id.GetString() is { Length: > 0 } modelId)
            {
                _modelId = modelId;
                UpstreamContextLength = data[0].TryGetProperty("max_model_len", out var length) && length.ValueKind == JsonValueKind.Number
                    && length.TryGetInt32(out var tokens) && tokens > 0 ? tokens : null;
                Log.ModelDiscovered(_logger, modelId);
                return;
            }

            Log.ModelDiscoveryFailed(_logger, "GET /v1/models listed no model");
        }
        catch (Exception e) when (e is HttpRequestException or JsonException
            || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            Log.ModelDiscoveryFailed(_logger, e.Message);
        }
    }

    private void SetState(BackendState state, string reason)
    {
        TaskCompletionSource changed;
        BackendState previous;
        lock (_gate)
        {
            previous = _state;
            if (previous == state)
            {
                return;
            }

            _state = state;
            changed = _stateChanged;
            _stateChanged = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        Log.StateChanged(_logger, previous, state, reason);
        changed.TrySetResult();
    }

    // The port is free now and below the ephemeral range; the upstream binds it moments later (a collision with another
    // process only costs one restart).
    private static int FreeLocalPort() => LoopbackPorts.PickUnused();

    /// <summary>What the upstream's /health JSON said about its load.</summary>
    internal sealed record UpstreamReport(int? ActiveRequests, int? QueueDepth);
}
