using System.Globalization;
using System.Text;
using System.Text.Json;
using Prometheus;
using WrinkleFree.Platform.Files;

namespace WrinkleFree.Training.Observability;

/// <summary>
/// Records logging steps as JSONL lines and as gauges in a private Prometheus registry, served on --metrics-port and
/// written atomically to a .prom file for node_exporter's textfile collector.
/// </summary>
public sealed class TrainingMetrics : IAsyncDisposable
{
    private readonly TrainingMetricsOptions _options;
    private readonly CollectorRegistry _registry = Metrics.NewCustomRegistry();
    private readonly StreamWriter? _jsonl;
    private readonly string? _promPath;
    private readonly KestrelMetricServer? _server;
    private readonly Gauge _step;
    private readonly Gauge _loss;
    private readonly Gauge _learningRate;
    private readonly Gauge _lambda;
    private readonly Gauge _tokensPerSecond;
    private readonly Gauge _gradNorm;
    private readonly Gauge _tokensSeen;
    private readonly Gauge _epoch;
    private readonly Gauge _checkpointBytes;
    private readonly Gauge _checkpointSeconds;
    private readonly Gauge _perplexity;
    private readonly Gauge _cpu;
    private readonly Gauge _rss;
    private readonly MetricFactory _factory;

    // Created with the first sample that has a GPU figure: an unlabelled gauge is exported as 0 from its creation, and a
    // machine without a GPU must show no GPU series at all (0 % would read as an idle GPU).
    private Gauge? _gpuUtil;
    private Gauge? _gpuMemory;

    /// <summary>Opens the JSONL file (append) and starts the endpoint when a port is given.</summary>
    public TrainingMetrics(TrainingMetricsOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        var factory = _factory = Metrics.WithCustomRegistry(_registry);
        string[] stage = ["stage"];
        _step = factory.CreateGauge("wf_train_step", "Optimizer steps completed.", stage);
        _loss = factory.CreateGauge("wf_train_loss", "Loss terms of the latest logged step.", ["stage", "term"]);
        _learningRate = factory.CreateGauge("wf_train_learning_rate", "Learning rate of the latest step.", stage);
        _lambda = factory.CreateGauge("wf_train_quantization_lambda", "BitLinear warm-up lambda (1 = fully ternary).", stage);
        _tokensPerSecond = factory.CreateGauge("wf_train_tokens_per_second", "Training throughput.", stage);
        _gradNorm = factory.CreateGauge("wf_train_grad_norm", "Gradient norm before clipping.", stage);
        _tokensSeen = factory.CreateGauge("wf_train_tokens_seen", "Training tokens consumed.", stage);
        _epoch = factory.CreateGauge("wf_train_epoch_progress", "Epochs of training data completed.", stage);
        _checkpointBytes = factory.CreateGauge("wf_train_checkpoint_bytes", "Size of the latest checkpoint.", stage);
        _checkpointSeconds = factory.CreateGauge("wf_train_checkpoint_seconds", "Time to write the latest checkpoint.", stage);
        _perplexity = factory.CreateGauge("wf_train_heldout_perplexity", "Latest held-out perplexity.", stage);
        _cpu = factory.CreateGauge("wf_train_process_cpu_percent", "Process CPU use in percent of one core.");
        _rss = factory.CreateGauge("wf_train_process_rss_bytes", "Process resident set size.");

        if (options.JsonlPath is { } jsonl)
        {
            if (Path.GetDirectoryName(Path.GetFullPath(jsonl)) is { } dir)
            {
                Directory.CreateDirectory(dir);
            }

            _jsonl = new StreamWriter(new FileStream(jsonl, FileMode.Append, FileAccess.Write, FileShare.Read), new UTF8Encoding(false));
            _promPath = options.PromFilePath ?? Path.ChangeExtension(jsonl, ".prom");
        }
        else
        {
            _promPath = options.PromFilePath;
        }

        if (options.PrometheusPort is { } port)
        {
            _server = new KestrelMetricServer(options.PrometheusHost, port, "/metrics", _registry);
            _server.Start();
        }
    }

    /// <summary>The registry the gauges live in (for tests and embedding).</summary>
    public CollectorRegistry Registry => _registry;

    /// <summary>Writes the JSONL line, updates the gauges and rewrites the .prom file.</summary>
    public async Task RecordAsync(TrainingMetricsRecord record, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        var s = record.Stage;
        _step.WithLabels(s).Set(record.Step);
        foreach (var (term, value) in record.Losses)
        {
            _loss.WithLabels(s, term).Set(value);
        }

        _learningRate.WithLabels(s).Set(record.LearningRate);
        _lambda.WithLabels(s).Set(record.Lambda);
        _tokensPerSecond.WithLabels(s).Set(record.TokensPerSecond);
        _gradNorm.WithLabels(s).Set(record.GradNorm);
        _tokensSeen.WithLabels(s).Set(record.TokensSeen);
        _epoch.WithLabels(s).Set(record.EpochProgress);
        if (record.CheckpointBytes is { } bytes)
        {
            _checkpointBytes.WithLabels(s).Set(bytes);
            _checkpointSeconds.WithLabels(s).Set(record.CheckpointSeconds ?? 0);
        }

        if (record.HeldOutPerplexity is { } ppl)
        {
            _perplexity.WithLabels(s).Set(ppl);
        }

        if (record.System is { } system)
        {
            _cpu.Set(system.CpuPercent);
            _rss.Set(system.RssBytes);
            if (system.GpuUtilizationPercent is { } util)
            {
                (_gpuUtil ??= _factory.CreateGauge("wf_train_gpu_utilization_percent", "GPU utilisation from nvidia-smi.")).Set(util);
            }

            if (system.GpuMemoryUsedMiB is { } used)
            {
                (_gpuMemory ??= _factory.CreateGauge("wf_train_gpu_memory_used_mib", "GPU memory in use from nvidia-smi.")).Set(used);
            }
        }

        if (_jsonl is not null)
        {
            await _jsonl.WriteLineAsync(ToJson(record).AsMemory(), cancellationToken).ConfigureAwait(false);
            await _jsonl.FlushAsync(cancellationToken).ConfigureAwait(false);
        }

        if (_promPath is not null)
        {
            await WritePromFileAsync(_promPath, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>One JSONL line: flat keys, loss terms under their own names, nulls left out.</summary>
    public string ToJson(TrainingMetricsRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("time", _options.TimeProvider.GetUtcNow().ToString("O", CultureInfo.InvariantCulture));
            w.WriteString("stage", record.Stage);
            w.WriteNumber("step", record.Step);
            w.WriteNumber("total_steps", record.TotalSteps);
            foreach (var (term, value) in record.Losses)
            {
                w.WriteNumber(term, Finite(value));
            }

            w.WriteNumber("lr", record.LearningRate);
            w.WriteNumber("lambda", record.Lambda);
            w.WriteNumber("tokens_per_second", Math.Round(record.TokensPerSecond, 1));
            w.WriteNumber("grad_norm", Finite(record.GradNorm));
            w.WriteNumber("tokens_seen", record.TokensSeen);
            w.WriteNumber("epoch", Math.Round(record.EpochProgress, 5));
            if (record.CheckpointBytes is { } bytes)
            {
                w.WriteNumber("checkpoint_bytes", bytes);
                w.WriteNumber("checkpoint_seconds", Math.Round(record.CheckpointSeconds ?? 0, 3));
            }

            if (record.HeldOutPerplexity is { } ppl)
            {
                w.WriteNumber("heldout_ppl", Finite(ppl));
            }

            if (record.System is { } system)
            {
                w.WriteNumber("cpu_percent", system.CpuPercent);
                w.WriteNumber("rss_bytes", system.RssBytes);
                // Absent, not 0, without a GPU: each figure is written only when nvidia-smi gave it.
                WriteIfKnown(w, "gpu_util_percent", system.GpuUtilizationPercent);
                WriteIfKnown(w, "gpu_mem_used_mib", system.GpuMemoryUsedMiB);
                WriteIfKnown(w, "gpu_mem_total_mib", system.GpuMemoryTotalMiB);
            }

            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>Stops the endpoint and closes the JSONL file.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.StopAsync().ConfigureAwait(false);
        }

        if (_jsonl is not null)
        {
            await _jsonl.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static void WriteIfKnown(Utf8JsonWriter w, string name, double? value)
    {
        if (value is { } v)
        {
            w.WriteNumber(name, v);
        }
    }

    // JSON has no NaN or infinity; a diverged loss is written as a huge number rather than breaking the line.
    private static double Finite(double value) => double.IsFinite(value) ? value : double.MaxValue;

    // Temp file + rename so the textfile collector never reads a half-written file.
    private Task WritePromFileAsync(string path, CancellationToken cancellationToken) =>
        AtomicFile.WriteAsync(path, (stream, ct) => _registry.CollectAndExportAsTextAsync(stream, ct), cancellationToken);
}
