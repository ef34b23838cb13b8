using System.CommandLine;
using WrinkleFree.Platform.Processes;
using WrinkleFree.Replica;

namespace WrinkleFree.Cli;

/// <summary>
/// <c>wf replica</c>: serve one model over the OpenAI API. Options come from the environment (BACKEND, MODEL_PATH,
/// CONTEXT_SIZE, NUM_THREADS, MLOCK, HOST, PORT, WF_*) and the command line wins. SIGTERM or Ctrl-C drains and exits 0.
/// </summary>
internal sealed class ReplicaCommand(CliContext context)
{
    public void Register(RootCommand root)
    {
        var model = new Option<string?>("--model", "-m") { Description = "GGUF model file (bitnet) or upstream model id (vllm). Env: MODEL_PATH." };
        var backend = new Option<string?>("--backend") { Description = "bitnet (in-process engine) or vllm (OpenAI-compatible upstream). Env: BACKEND." };
        backend.AcceptOnlyFromAmong("bitnet", "vllm");
        var host = new Option<string?>("--host") { Description = "Address to listen on (default 127.0.0.1, this machine only; 0.0.0.0 for every interface). Env: HOST." };
        var port = new Option<int?>("--port") { Description = "Port (default 8080; 0 = any free port). Env: PORT." };
        var threads = new Option<int?>("--threads", "-t") { Description = "Engine threads (default: all cores). Env: NUM_THREADS." };
        var contextSize = new Option<int?>("--context-size", "-c") { Description = "Per-request context limit (default: the model's). Env: CONTEXT_SIZE." };
        var mlock = new Option<bool?>("--mlock") { Description = "Lock the weights in RAM. Env: MLOCK." };
        var modelId = new Option<string?>("--model-id") { Description = "Model id clients send (default: the file name). Env: WF_MODEL_ID." };
        var maxSequences = new Option<int?>("--max-sequences") { Description = "Sequences decoded together (default 64). Env: WF_MAX_SEQUENCES." };
        var maxQueue = new Option<int?>("--max-queue") { Description = "Waiting requests before 429 (default 256). Env: WF_MAX_QUEUE." };
        var prefixCache = new Option<string?>("--prefix-cache") { Description = "on (default) or off: keep the KV pages of prompt prefixes and reuse them for later requests that start the same way (bitnet). Env: WF_PREFIX_CACHE." };
        prefixCache.AcceptOnlyFromAmong("on", "off");
        var cacheType = new Option<string?>("--cache-type") { Description = "f16 (default) or f32: how the KV cache stores keys and values, as llama.cpp's --cache-type-k/-v (bitnet). f32 doubles the cache's memory and attention's traffic. Env: WF_CACHE_TYPE." };
        cacheType.AcceptOnlyFromAmong("f16", "f32");
        var warmUp = new Option<string?>("--warmup") { Description = "on (default) or off: run the engine's forward passes once while loading, so the first request runs at warm speed (bitnet; /health says loading until done). Env: WF_WARMUP." };
        warmUp.AcceptOnlyFromAmong("on", "off");
        var overloadQueue = new Option<int?>("--overload-queue") { Description = "/health is 503 overloaded at this queue depth (default 16). Env: WF_OVERLOAD_QUEUE_THRESHOLD." };
        var overloadBandwidth = new Option<double?>("--overload-bandwidth") { Description = "/health is 503 overloaded at this bandwidth utilization (default 0.9). Env: WF_OVERLOAD_BANDWIDTH_THRESHOLD." };
        var drain = new Option<double?>("--drain-timeout") { Description = "Seconds SIGTERM waits for in-flight requests (default 30). Env: WF_DRAIN_TIMEOUT_SECONDS." };
        var peak = new Option<double?>("--peak-bandwidth") { Description = "Peak read bandwidth in GB/s instead of measuring it at start-up. Env: WF_PEAK_BANDWIDTH_GBPS." };
        var upstream = new Option<string?>("--upstream") { Description = "vllm: URL of a running OpenAI-compatible server. Env: WF_UPSTREAM_URL." };
        var upstreamCommand = new Option<string?>("--upstream-command") { Description = "vllm: command that starts the upstream (supervised). Env: WF_UPSTREAM_COMMAND." };
        var tlsCert = new Option<string?>("--tls-cert") { Description = "PEM certificate to serve HTTPS with; reloaded when the file changes. Env: WF_TLS_CERT." };
        var tlsKey = new Option<string?>("--tls-key") { Description = "PEM private key of --tls-cert. Env: WF_TLS_KEY." };
        var tlsClientCa = new Option<string?>("--tls-client-ca") { Description = "PEM CA: serve only clients whose certificate chains to it (mTLS). Env: WF_TLS_CLIENT_CA." };
        var apiKeyFile = new Option<string?>("--api-key-file") { Description = "File of API keys, one per line: every route but /health then needs 'Authorization: Bearer KEY'. Env: WF_API_KEY_FILE." };
        // Checked with the other options (exit 2, naming the flag and its values), so WF_INTERRUPTION_NOTICE gets the same check.
        var interruptionNotice = new Option<string?>("--interruption-notice")
        {
            Description = "Watch for spot interruption notices and drain when one comes: none (default), aws (EC2 IMDSv2 spot/instance-action) or gcp (Compute Engine instance/preempted). The metadata URL can be overridden with WF_INSTANCE_METADATA_URL. Env: WF_INTERRUPTION_NOTICE.",
        };
        var cmd = new DrainingCommand("replica", "Serve a model over the OpenAI API (completions, chat, /health, /metrics).")
        {
            model, backend, host, port, threads, contextSize, mlock, modelId, maxSequences, maxQueue, prefixCache, cacheType, warmUp, overloadQueue, overloadBandwidth, drain, peak, upstream, upstreamCommand,
            tlsCert, tlsKey, tlsClientCa, apiKeyFile, interruptionNotice,
        };
        var logging = new ProcessLogging();
        logging.AddTo(cmd);

        // A draining command: SIGTERM or Ctrl-C cancels the token and the drain below decides when the process ends.
        cmd.SetAction(async (parse, ct) =>
        {
            ReplicaOptions options;
            ProcessLogging.Settings log;
            try
            {
                log = logging.Resolve(parse);
                var env = ReplicaOptions.FromEnvironment();
                options = env with
                {
                    ModelPath = parse.GetValue(model) ?? env.ModelPath,
                    Backend = parse.GetValue(backend) ?? env.Backend,
                    Host = parse.GetValue(host) ?? env.Host,
                    Port = parse.GetValue(port) ?? env.Port,
                    Threads = parse.GetValue(threads) ?? env.Threads,
                    ContextSize = parse.GetValue(contextSize) ?? env.ContextSize,
                    Mlock = parse.GetValue(mlock) ?? env.Mlock,
                    ModelId = parse.GetValue(modelId) ?? env.ModelId,
                    MaxSequences = parse.GetValue(maxSequences) ?? env.MaxSequences,
                    MaxQueue = parse.GetValue(maxQueue) ?? env.MaxQueue,
                    PrefixCache = parse.GetValue(prefixCache) is { } cache ? cache == "on" : env.PrefixCache,
                    CacheType = parse.GetValue(cacheType) ?? env.CacheType,
                    WarmUp = parse.GetValue(warmUp) is { } warm ? warm == "on" : env.WarmUp,
                    OverloadQueueThreshold = parse.GetValue(overloadQueue) ?? env.OverloadQueueThreshold,
                    OverloadBandwidthThreshold = parse.GetValue(overloadBandwidth) ?? env.OverloadBandwidthThreshold,
                    DrainTimeout = parse.GetValue(drain) is { } seconds ? TimeSpan.FromSeconds(seconds) : env.DrainTimeout,
                    PeakBandwidthGBps = parse.GetValue(peak) ?? env.PeakBandwidthGBps,
                    UpstreamUrl = parse.GetValue(upstream) ?? env.UpstreamUrl,
                    UpstreamCommand = parse.GetValue(upstreamCommand) ?? env.UpstreamCommand,
                    TlsCertFile = parse.GetValue(tlsCert) ?? env.TlsCertFile,
                    TlsKeyFile = parse.GetValue(tlsKey) ?? env.TlsKeyFile,
                    TlsClientCaFile = parse.GetValue(tlsClientCa) ?? env.TlsClientCaFile,
                    ApiKeyFile = parse.GetValue(apiKeyFile) ?? env.ApiKeyFile,
                    InterruptionNotice = parse.GetValue(interruptionNotice) ?? env.InterruptionNotice,
                };
                options.Validate();
            }
            catch (ArgumentException e)
            {
                context.Error.WriteLine($"error: {e.Message}");
                return ExitCodes.InvalidInput;
            }

            if (options.Backend == "bitnet")
            {
                // Starts over (same pid) with the runtime's tiering delay at zero, so the first requests run optimized code;
                // returns when it did not (already set, or not the wf executable itself, e.g. a test host).
                _ = EagerTiering.TryReexecute(["wf"]);
            }

            return await RunAsync(options, log, ct);
        });
        root.Subcommands.Add(cmd);
    }

    /// <summary>
    /// Serves until <paramref name="stop"/> (SIGTERM or Ctrl-C), then drains in-flight requests and exits 0. With JSON logs
    /// every stdout line is a JSON object: the plain "listening on URL" and "ready" lines give way to the log entries that
    /// say the same (event ids 1001 and 1007, the URL in State.Address).
    /// </summary>
    private async Task<int> RunAsync(ReplicaOptions options, ProcessLogging.Settings log, CancellationToken stop)
    {
        using var rotation = ProcessLogging.StartRotation(log, context.Time, context.Error);
        ReplicaHost host;
        try
        {
            host = await ReplicaHost.StartAsync(options, logging => ProcessLogging.Configure(logging, log, "HH:mm:ss.fff "), cancellationToken: stop);
        }
        catch (Exception e) when (e is IOException or ArgumentException or NotSupportedException or System.Net.Sockets.SocketException or Platform.Tls.TlsFileException)
        {
            context.Error.WriteLine($"error: cannot start the replica: {e.Message}");
            return ExitCodes.InvalidInput;
        }

        await using (host)
        {
            // One plain line that scripts and tests parse to learn the bound port.
            if (!log.Json)
            {
                context.Out.WriteLine($"listening on {host.Address.ToString().TrimEnd('/')}");
            }

            try
            {
                await host.WaitUntilReadyAsync(stop);
                if (!log.Json)
                {
                    context.Out.WriteLine("ready");
                }

                await Task.Delay(Timeout.Infinite, stop);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                // SIGTERM or Ctrl-C: fall through to the drain.
            }
            catch (InvalidOperationException e)
            {
                context.Error.WriteLine($"error: {e.Message}");
                return ExitCodes.Failure;
            }

            await host.StopAsync(CancellationToken.None);
        }

        return ExitCodes.Success;
    }
}
