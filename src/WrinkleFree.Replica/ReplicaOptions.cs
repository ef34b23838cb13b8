using System.Globalization;

namespace WrinkleFree.Replica;

/// <summary>
/// Everything a replica is started with. Built from the environment (<see cref="FromEnvironment"/>, the names the service
/// YAML sets), overridden by command-line options, then checked once by <see cref="Validate"/>.
/// </summary>
public sealed record ReplicaOptions
{
    /// <summary>Backend names accepted by <see cref="Backend"/>.</summary>
    public static readonly IReadOnlyList<string> Backends = ["bitnet", "vllm"];

    /// <summary>Values accepted by <see cref="InterruptionNotice"/>.</summary>
    public static readonly IReadOnlyList<string> InterruptionNotices = ["none", "aws", "gcp"];

    /// <summary>GGUF file (bitnet) or the model id to forward (vllm). Env: MODEL_PATH.</summary>
    public string? ModelPath { get; init; }

    /// <summary><c>bitnet</c> (in-process engine) or <c>vllm</c> (OpenAI-compatible upstream). Env: BACKEND.</summary>
    public string Backend { get; init; } = "bitnet";

    /// <summary>The id clients send as "model"; null = the model file name without extension. Env: WF_MODEL_ID.</summary>
    public string? ModelId { get; init; }

    /// <summary>Address to listen on: this machine only unless told otherwise (0.0.0.0 for every interface). Env: HOST.</summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>Port to listen on; 0 picks a free one (see <see cref="ReplicaHost.Address"/>). Env: PORT.</summary>
    public int Port { get; init; } = 8080;

    /// <summary>Engine threads. Env: NUM_THREADS.</summary>
    public int Threads { get; init; } = Environment.ProcessorCount;

    /// <summary>Per-sequence context limit; 0 = the model's. Env: CONTEXT_SIZE.</summary>
    public int ContextSize { get; init; }

    /// <summary>Lock the weights in RAM. Env: MLOCK.</summary>
    public bool Mlock { get; init; }

    /// <summary>Sequences decoded together. Env: WF_MAX_SEQUENCES.</summary>
    public int MaxSequences { get; init; } = 64;

    /// <summary>Requests waiting for a slot before new ones get 429. Env: WF_MAX_QUEUE.</summary>
    public int MaxQueue { get; init; } = 256;

    /// <summary>Keep and share the KV pages of prompt prefixes between requests (bitnet backend; <c>--prefix-cache on|off</c>). Env: WF_PREFIX_CACHE.</summary>
    public bool PrefixCache { get; init; } = true;

    /// <summary>
    /// How the KV cache stores keys and values (bitnet backend; <c>--cache-type f16|f32</c>, as llama.cpp's): null is f16,
    /// half precision, half the memory and traffic of f32. Env: WF_CACHE_TYPE.
    /// </summary>
    public string? CacheType { get; init; }

    /// <summary>
    /// Run the engine's forward passes once while loading, so the first request runs compiled code at warm speed (bitnet
    /// backend; <c>--warmup on|off</c>). Env: WF_WARMUP.
    /// </summary>
    public bool WarmUp { get; init; } = true;

    /// <summary>/health reports "overloaded" while the queue depth is at least this. Env: WF_OVERLOAD_QUEUE_THRESHOLD.</summary>
    public int OverloadQueueThreshold { get; init; } = 16;

    /// <summary>/health reports "overloaded" while bandwidth utilization is at least this. Env: WF_OVERLOAD_BANDWIDTH_THRESHOLD.</summary>
    public double OverloadBandwidthThreshold { get; init; } = 0.9;

    /// <summary>How long SIGTERM waits for in-flight requests. Env: WF_DRAIN_TIMEOUT_SECONDS.</summary>
    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Largest accepted request body. Env: WF_MAX_BODY_BYTES.</summary>
    public long MaxRequestBodyBytes { get; init; } = 8 << 20;

    /// <summary>Peak memory read bandwidth in GB/s; null = measure at start-up. Env: WF_PEAK_BANDWIDTH_GBPS.</summary>
    public double? PeakBandwidthGBps { get; init; }

    /// <summary>vllm: base URL of a running OpenAI-compatible upstream. Env: WF_UPSTREAM_URL.</summary>
    public string? UpstreamUrl { get; init; }

    /// <summary>vllm: command line that starts the upstream, supervised by the replica. Env: WF_UPSTREAM_COMMAND.</summary>
    public string? UpstreamCommand { get; init; }

    /// <summary>PEM certificate to serve HTTPS with (reloaded when the file changes); null serves plain HTTP. Env: WF_TLS_CERT.</summary>
    public string? TlsCertFile { get; init; }

    /// <summary>PEM private key of <see cref="TlsCertFile"/>. Env: WF_TLS_KEY.</summary>
    public string? TlsKeyFile { get; init; }

    /// <summary>PEM CA certificate: when set, only clients presenting a certificate that chains to it are served. Env: WF_TLS_CLIENT_CA.</summary>
    public string? TlsClientCaFile { get; init; }

    /// <summary>A file of API keys (one per line); every route but /health then needs one of them. Env: WF_API_KEY_FILE.</summary>
    public string? ApiKeyFile { get; init; }

    /// <summary>
    /// Whose spot interruption notice to watch: <c>none</c>, <c>aws</c> (EC2 instance metadata spot/instance-action) or
    /// <c>gcp</c> (Compute Engine metadata instance/preempted). A notice drains the replica. Env: WF_INTERRUPTION_NOTICE.
    /// </summary>
    public string InterruptionNotice { get; init; } = "none";

    /// <summary>
    /// How often the metadata is asked (between Compute Engine long polls too). EC2 gives two minutes of notice: asking
    /// every second leaves nearly all of it for draining. Tests shorten it.
    /// </summary>
    internal TimeSpan InterruptionPollInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Base URL of the instance metadata service; null = the cloud's link-local one. Env: WF_INSTANCE_METADATA_URL.</summary>
    public string? InstanceMetadataUrl { get; init; }

    /// <summary>Reads every option that the environment sets; a value that does not parse throws naming the variable.</summary>
    public static ReplicaOptions FromEnvironment(Func<string, string?>? getVariable = null)
    {
        getVariable ??= Environment.GetEnvironmentVariable;
        var o = new ReplicaOptions();
        string? Get(string name) => getVariable(name) is { Length: > 0 } v ? v.Trim() : null;
        T Parse<T>(string name, T fallback, Func<string, T?> parse) where T : struct =>
            Get(name) is not { } raw ? fallback
            : parse(raw) ?? throw new ArgumentException($"environment variable {name}='{raw}' is not a valid {typeof(T).Name.ToLowerInvariant()}", name);
        static int? Int(string s) => int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : null;
        static long? Long(string s) => long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : null;
        static double? Double(string s) => double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : null;
        static bool? Bool(string s) => s.ToLowerInvariant() switch
        {
            "1" or "true" or "yes" or "on" => true,
            "0" or "false" or "no" or "off" => false,
            _ => null,
        };

        return o with
        {
            ModelPath = Get("MODEL_PATH") ?? o.ModelPath,
            Backend = Get("BACKEND") ?? o.Backend,
            ModelId = Get("WF_MODEL_ID") ?? o.ModelId,
            Host = Get("HOST") ?? o.Host,
            Port = Parse("PORT", o.Port, Int),
            Threads = Parse("NUM_THREADS", o.Threads, Int),
            ContextSize = Parse("CONTEXT_SIZE", o.ContextSize, Int),
            Mlock = Parse("MLOCK", o.Mlock, Bool),
            MaxSequences = Parse("WF_MAX_SEQUENCES", o.MaxSequences, Int),
            PrefixCache = Parse("WF_PREFIX_CACHE", o.PrefixCache, Bool),
            CacheType = Get("WF_CACHE_TYPE") ?? o.CacheType,
            WarmUp = Parse("WF_WARMUP", o.WarmUp, Bool),
            MaxQueue = Parse("WF_MAX_QUEUE", o.MaxQueue, Int),
            OverloadQueueThreshold = Parse("WF_OVERLOAD_QUEUE_THRESHOLD", o.OverloadQueueThreshold, Int),
            OverloadBandwidthThreshold = Parse("WF_OVERLOAD_BANDWIDTH_THRESHOLD", o.OverloadBandwidthThreshold, Double),
            DrainTimeout = TimeSpan.FromSeconds(Parse("WF_DRAIN_TIMEOUT_SECONDS", o.DrainTimeout.TotalSeconds, Double)),
            MaxRequestBodyBytes = Parse("WF_MAX_BODY_BYTES", o.MaxRequestBodyBytes, Long),
            PeakBandwidthGBps = Get("WF_PEAK_BANDWIDTH_GBPS") is null ? o.PeakBandwidthGBps : Parse("WF_PEAK_BANDWIDTH_GBPS", 0.0, Double),
            UpstreamUrl = Get("WF_UPSTREAM_URL") ?? o.UpstreamUrl,
            UpstreamCommand = Get("WF_UPSTREAM_COMMAND") ?? o.UpstreamCommand,
            TlsCertFile = Get("WF_TLS_CERT") ?? o.TlsCertFile,
            TlsKeyFile = Get("WF_TLS_KEY") ?? o.TlsKeyFile,
            TlsClientCaFile = Get("WF_TLS_CLIENT_CA") ?? o.TlsClientCaFile,
            ApiKeyFile = Get("WF_API_KEY_FILE") ?? o.ApiKeyFile,
            InterruptionNotice = Get("WF_INTERRUPTION_NOTICE") ?? o.InterruptionNotice,
            InstanceMetadataUrl = Get("WF_INSTANCE_METADATA_URL") ?? o.InstanceMetadataUrl,
        };
    }

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first option that is missing or out of range.</summary>
    public void Validate()
    {
        Check(Backends.Contains(Backend), nameof(Backend), Backend, "bitnet or vllm");
        if (Backend == "bitnet")
        {
            Check(!string.IsNullOrWhiteSpace(ModelPath), nameof(ModelPath), ModelPath, "a GGUF file (--model or MODEL_PATH)");
        }
        else
        {
            Check(CacheType is null, nameof(CacheType), CacheType, "unset for the vllm backend: the upstream keeps its own cache (--cache-type and WF_CACHE_TYPE are bitnet settings)");
            Check(UpstreamUrl is not null || UpstreamCommand is not null, nameof(UpstreamUrl), UpstreamUrl, "set (--upstream URL or --upstream-command) for the vllm backend");
            Check(UpstreamUrl is null || Uri.TryCreate(UpstreamUrl, UriKind.Absolute, out _), nameof(UpstreamUrl), UpstreamUrl, "an absolute http(s) URL");
        }

        Check(CacheType is null or "f16" or "f32", nameof(CacheType), CacheType, "f16 or f32 (--cache-type or WF_CACHE_TYPE)");
        Check(!string.IsNullOrWhiteSpace(Host), nameof(Host), Host, "a host name or IP address");
        Check(Port is >= 0 and <= 65535, nameof(Port), Port, "in [0, 65535] (0 = any free port)");
        Check(Threads >= 1, nameof(Threads), Threads, ">= 1");
        Check(ContextSize >= 0, nameof(ContextSize), ContextSize, ">= 0 (0 = the model's context length)");
        Check(MaxSequences >= 1, nameof(MaxSequences), MaxSequences, ">= 1");
        Check(MaxQueue >= 0, nameof(MaxQueue), MaxQueue, ">= 0");
        Check(OverloadQueueThreshold >= 0, nameof(OverloadQueueThreshold), OverloadQueueThreshold, ">= 0");
        Check(OverloadBandwidthThreshold >= 0, nameof(OverloadBandwidthThreshold), OverloadBandwidthThreshold, ">= 0 (a fraction of peak bandwidth)");
        Check(DrainTimeout >= TimeSpan.Zero, nameof(DrainTimeout), DrainTimeout, ">= 0");
        Check(MaxRequestBodyBytes >= 1024, nameof(MaxRequestBodyBytes), MaxRequestBodyBytes, ">= 1024");
        Check(ApiKeyFile is null || File.Exists(ApiKeyFile), nameof(ApiKeyFile), ApiKeyFile, "an existing file of API keys, one per line (--api-key-file or WF_API_KEY_FILE)");
        Check(PeakBandwidthGBps is null or > 0, nameof(PeakBandwidthGBps), PeakBandwidthGBps, "> 0 GB/s (or unset to measure)");
        Check(InterruptionNotices.Contains(InterruptionNotice), nameof(InterruptionNotice), InterruptionNotice,
            "one of none, aws, gcp (--interruption-notice or WF_INTERRUPTION_NOTICE)");
        Check(InstanceMetadataUrl is null || (Uri.TryCreate(InstanceMetadataUrl, UriKind.Absolute, out var metadata) && metadata.Scheme == Uri.UriSchemeHttp),
            nameof(InstanceMetadataUrl), InstanceMetadataUrl, "an absolute http URL (WF_INSTANCE_METADATA_URL)");
        Check(InterruptionPollInterval > TimeSpan.Zero, nameof(InterruptionPollInterval), InterruptionPollInterval, "> 0");
        Check(TlsCertFile is null == TlsKeyFile is null, TlsCertFile is null ? nameof(TlsCertFile) : nameof(TlsKeyFile), null,
            "given together with the other: HTTPS needs both --tls-cert and --tls-key");
        Check(TlsClientCaFile is null || TlsCertFile is not null, nameof(TlsClientCaFile), TlsClientCaFile,
            "given with --tls-cert and --tls-key: client certificates are checked over HTTPS only");

        static void Check(bool ok, string name, object? value, string rule)
        {
            if (!ok)
            {
                throw new ArgumentException($"replica option {name} = '{value}' is invalid: must be {rule}", name);
            }
        }
    }

    /// <summary>The engine's KV cache precision from <see cref="CacheType"/>.</summary>
    public Inference.Models.KvPrecision KvPrecision => CacheType == "f32" ? Inference.Models.KvPrecision.F32 : Inference.Models.KvPrecision.F16;

    /// <summary>The id clients send as "model": <see cref="ModelId"/> or the model file's name without its extension.</summary>
    public string EffectiveModelId =>
        ModelId ?? (ModelPath is null ? "model" : Backend == "bitnet" ? Path.GetFileNameWithoutExtension(ModelPath) : ModelPath);
}
