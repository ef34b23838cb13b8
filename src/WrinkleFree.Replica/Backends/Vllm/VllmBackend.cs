using System.Net;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace WrinkleFree.Replica.Backends.Vllm;

/// <summary>
/// Serves generation from an OpenAI-compatible upstream (vLLM, llama.cpp's server, another <c>wf replica</c>): forwards each
/// choice as a streaming request, reads its SSE chunks into events with exact usage, and, when given a command, runs and
/// supervises the upstream process itself.
/// </summary>
public sealed class VllmBackend : IInferenceBackend
{
    private static readonly MediaTypeHeaderValue Json = new("application/json");
    private static readonly MediaTypeWithQualityHeaderValue EventStream = new("text/event-stream");

    private readonly VllmBackendOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly HttpClient _http;
    private readonly UpstreamSupervisor _supervisor;
    private int _active;

    /// <summary>Validates <paramref name="options"/> (throwing <see cref="ArgumentException"/>); nothing starts until <see cref="StartAsync"/>.</summary>
    public VllmBackend(VllmBackendOptions options, ILogger<VllmBackend>? logger = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _logger = logger ?? (ILogger)NullLogger.Instance;
        _time = timeProvider ?? TimeProvider.System;
        _http = new HttpClient(new SocketsHttpHandler
        {
            // Pooled keep-alive connections to one upstream; recycled now and then so a DNS change is picked up.
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            ConnectTimeout = TimeSpan.FromSeconds(10) < options.RequestTimeout ? TimeSpan.FromSeconds(10) : options.RequestTimeout,
            MaxConnectionsPerServer = int.MaxValue,
            AutomaticDecompression = DecompressionMethods.None,

            // The upstream is a neighbour (often on loopback): an HTTP_PROXY meant for the internet must not capture it.
            UseProxy = false,
        })
        {
            // Our own idle timeout (RequestTimeout) governs; HttpClient's total timeout would cut long streams.
            Timeout = Timeout.InfiniteTimeSpan,
        };
        _supervisor = new UpstreamSupervisor(options, _http, _logger, _time);
    }

    public string Name => "vllm";

    /// <summary>The configured override, else the upstream's first model id (<c>upstream</c> until it is known).</summary>
    public string ModelId => _options.ModelId ?? _supervisor.UpstreamModelId ?? "upstream";

    public BackendState State => _supervisor.State;

    /// <summary>The upstream's max_model_len from its GET /v1/models (vLLM lists it), once known.</summary>
    public int? ContextLength => _supervisor.UpstreamContextLength;

    /// <summary>Process id (and process group id) of the supervised upstream while one runs; null for an external upstream.</summary>
    internal int? UpstreamProcessId => _supervisor.ProcessId;

    /// <summary>Generations in flight through this backend (what <see cref="GetLoad"/> reports when the upstream says nothing).</summary>
    internal int InFlight => Volatile.Read(ref _active);

    /// <summary>The upstream's base address (the picked port's once a command was started).</summary>
    internal Uri UpstreamBaseUrl => _supervisor.Endpoint("/");

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _supervisor.Start();
        return Task.CompletedTask;
    }

    /// <summary>Completes when <see cref="State"/> is (or becomes) <paramref name="state"/>.</summary>
    public Task WaitForStateAsync(BackendState state, CancellationToken cancellationToken) =>
        _supervisor.WaitForStateAsync(state, cancellationToken);

    /// <summary>
    /// Requests in flight through this backend; when the upstream's /health reports active_requests and queue_depth (as
    /// <c>wf replica</c> does), its numbers, which also count other clients, as of the last health check.
    /// </summary>
    public BackendLoad GetLoad()
    {
        var local = InFlight;
        var report = _supervisor.Report;
        return new BackendLoad(Math.Max(local, report?.ActiveRequests ?? 0), report?.QueueDepth ?? 0, 0);
    }

    public async Task<int[]> TokenizeAsync(string text, bool addSpecial, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(text);

        // Both dialects in one body: vLLM reads prompt/add_special_tokens, llama.cpp content/add_special.
        var body = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object?>
        {
            ["model"] = _supervisor.UpstreamModelId,
            ["prompt"] = text,
            ["content"] = text,
            ["add_special_tokens"] = addSpecial,
            ["add_special"] = addSpecial,
        });
        using var json = await PostAsync("/tokenize", body, cancellationToken).ConfigureAwait(false);
        if (!json.RootElement.TryGetProperty("tokens", out var tokens) || tokens.ValueKind != JsonValueKind.Array)
        {
            throw BadAnswer("/tokenize", "no \"tokens\" array");
        }

        var ids = new int[tokens.GetArrayLength()];
        var i = 0;
        foreach (var token in tokens.EnumerateArray())
        {
            // llama.cpp's with_pieces form: [{"id": 1, "piece": "..."}].
            var id = token.ValueKind == JsonValueKind.Object && token.TryGetProperty("id", out var idElement) ? idElement : token;
            ids[i++] = id.ValueKind == JsonValueKind.Number && id.TryGetInt32(out var n) ? n : throw BadAnswer("/tokenize", $"token {i} is not an integer id");
        }

        return ids;
    }

    public async Task<string> DetokenizeAsync(int[] tokens, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        var body = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object?>
        {
            ["model"] = _supervisor.UpstreamModelId,
            ["tokens"] = tokens,
        });
        using var json = await PostAsync("/detokenize", body, cancellationToken).ConfigureAwait(false);
        foreach (var name in (ReadOnlySpan<string>)["prompt", "content"])
        {
            if (json.RootElement.TryGetProperty(name, out var text) && text.ValueKind == JsonValueKind.String)
            {
                return text.GetString()!;
            }
        }

        throw BadAnswer("/detokenize", "neither \"prompt\" nor \"content\"");
    }

    public async IAsyncEnumerable<GenerationEvent> GenerateAsync(GenerationInput input, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        ThrowUnlessReady();
        // Admission is decided here, atomically, as the request arrives: the upstream would queue without limit.
        if (Interlocked.Increment(ref _active) > _options.MaxInFlight)
        {
            Interlocked.Decrement(ref _active);
            throw new BackendException(429, "rate_limit_error",
                $"the replica is full ({_options.MaxInFlight} requests in flight, its slots plus its queue); retry later", null, "queue_full", TimeSpan.FromSeconds(1));
        }

        try
        {
            var chat = UpstreamRequest.IsChat(input);

            // Echo is done here rather than forwarded: llama.cpp's server does not implement it, and this way every
            // upstream echoes alike. Only prompt scoring (echo + logprobs) must be forwarded.
            var echo = !input.Echo || chat || UpstreamRequest.ScoresPrompt(input) ? null
                : input.PromptText ?? (input.PromptTokens is { } prompt ? await DetokenizeAsync(prompt, cancellationToken).ConfigureAwait(false) : null);

            // One idle timer for the whole call, re-armed before each wait on the upstream.
            using var idle = new CancellationTokenSource(Timeout.InfiniteTimeSpan, _time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, idle.Token);
            using var response = await SendAsync(input, chat, idle, linked.Token, cancellationToken).ConfigureAwait(false);
            using var sse = new SseReader(await response.Content.ReadAsStreamAsync(linked.Token).ConfigureAwait(false));
            if (!string.IsNullOrEmpty(echo))
            {
                yield return new GenerationEvent { Text = echo, IsEcho = true };
            }

            var parser = new StreamChunkParser(chat);
            var events = new List<GenerationEvent>();
            while (await ReadEventsAsync(sse, parser, events, idle, linked.Token, cancellationToken).ConfigureAwait(false))
            {
                foreach (var e in events)
                {
                    yield return e;
                }

                events.Clear();
            }

            if (!parser.HasUsage)
            {
                Log.MissingUsage(_logger);
            }

            yield return parser.Final();
        }
        finally
        {
            // Disposing the response above (before this) closes the connection mid-stream, which is how the upstream
            // learns that the client went away and frees the sequence's slot.
            Interlocked.Decrement(ref _active);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _supervisor.DisposeAsync().ConfigureAwait(false);
        _http.Dispose();
    }

    private void ThrowUnlessReady()
    {
        switch (_supervisor.State)
        {
            case BackendState.Ready:
                return;
            case BackendState.Loading:
                throw UpstreamErrors.Loading();
            default:
                throw UpstreamErrors.Unavailable("the upstream is down or restarting");
        }
    }

    private async Task<HttpResponseMessage> SendAsync(GenerationInput input, bool chat, CancellationTokenSource idle, CancellationToken token, CancellationToken callerToken)
    {
        var path = chat ? UpstreamRequest.ChatPath : UpstreamRequest.CompletionsPath;
        using var request = new HttpRequestMessage(HttpMethod.Post, _supervisor.Endpoint(path))
        {
            Content = new ByteArrayContent(UpstreamRequest.Build(input, _supervisor.UpstreamModelId ?? input.Model)) { Headers = { ContentType = Json } },
        };
        request.Headers.Accept.Add(EventStream);
        idle.CancelAfter(_options.RequestTimeout);
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, token).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw Failed(UpstreamErrors.Unavailable(e.Message));
        }
        catch (OperationCanceledException) when (!callerToken.IsCancellationRequested)
        {
            throw Failed(UpstreamErrors.TimedOut(_options.RequestTimeout));
        }

        if (response.IsSuccessStatusCode)
        {
            return response;
        }

        using (response)
        {
            throw Failed(await UpstreamErrors.FromResponseAsync(response, _time, token).ConfigureAwait(false));
        }
    }

    /// <summary>Reads chunks until some produce events (true) or the stream ends (false), mapping transport failures.</summary>
    private async Task<bool> ReadEventsAsync(SseReader sse, StreamChunkParser parser, List<GenerationEvent> events, CancellationTokenSource idle, CancellationToken token, CancellationToken callerToken)
    {
        try
        {
            while (events.Count == 0)
            {
                idle.CancelAfter(_options.RequestTimeout);
                var data = await sse.ReadAsync(token).ConfigureAwait(false);
                if (data is null)
                {
                    if (!sse.Done && !parser.Finished)
                    {
                        throw Failed(UpstreamErrors.Unavailable("the upstream closed the stream before finishing"));
                    }

                    return false;
                }

                parser.Parse(data, events);
            }

            return true;
        }
        catch (JsonException e)
        {
            throw Failed(new BackendException(502, "server_error", $"the upstream sent a malformed stream chunk: {e.Message}", code: "bad_upstream_response"));
        }
        catch (Exception e) when (e is HttpRequestException or IOException && !callerToken.IsCancellationRequested)
        {
            throw Failed(UpstreamErrors.Unavailable($"the stream broke: {e.Message}"));
        }
        catch (OperationCanceledException) when (!callerToken.IsCancellationRequested)
        {
            throw Failed(UpstreamErrors.TimedOut(_options.RequestTimeout));
        }
    }

    private async Task<JsonDocument> PostAsync(string path, byte[] body, CancellationToken cancellationToken)
    {
        ThrowUnlessReady();
        using var timeout = new CancellationTokenSource(_options.RequestTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        using var content = new ByteArrayContent(body) { Headers = { ContentType = Json } };
        try
        {
            using var response = await _http.PostAsync(_supervisor.Endpoint(path), content, linked.Token).ConfigureAwait(false);
            if (response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed or HttpStatusCode.NotImplemented)
            {
                throw Failed(new BackendException(501, "server_error", $"the upstream does not implement {path} ({(int)response.StatusCode})", code: "unsupported_by_upstream"));
            }

            if (!response.IsSuccessStatusCode)
            {
                throw Failed(await UpstreamErrors.FromResponseAsync(response, _time, linked.Token).ConfigureAwait(false));
            }

            await using var stream = await response.Content.ReadAsStreamAsync(linked.Token).ConfigureAwait(false);
            return await JsonDocument.ParseAsync(stream, cancellationToken: linked.Token).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw Failed(UpstreamErrors.Unavailable(e.Message));
        }
        catch (JsonException e)
        {
            throw BadAnswer(path, e.Message);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw Failed(UpstreamErrors.TimedOut(_options.RequestTimeout));
        }
    }

    private BackendException BadAnswer(string path, string what) =>
        Failed(new BackendException(502, "server_error", $"the upstream's {path} answer is not understood: {what}", code: "bad_upstream_response"));

    private BackendException Failed(BackendException exception)
    {
        // A client's mistake the upstream caught is routine; the upstream failing is worth a warning.
        if (exception.Status < 500)
        {
            Log.UpstreamRejected(_logger, exception.Status, exception.Message);
        }
        else
        {
            Log.UpstreamError(_logger, exception.Status, exception.Message);
        }

        return exception;
    }
}
