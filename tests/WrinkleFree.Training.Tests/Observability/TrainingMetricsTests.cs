using System.Net;
using System.Text.Json;
using WrinkleFree.Platform.Http;
using WrinkleFree.Training.Observability;

namespace WrinkleFree.Training.Tests.Observability;

public sealed class TrainingMetricsTests
{
    private static TrainingMetricsRecord Record(long step, long? checkpointBytes = null) => new()
    {
        Stage = "stage3",
        Step = step,
        TotalSteps = 100,
        Losses = new Dictionary<string, double> { ["loss"] = 2.5, ["ce"] = 2.0, ["kl"] = 0.05 },
        LearningRate = 1e-3,
        Lambda = 0.5,
        TokensPerSecond = 1234.5,
        GradNorm = 0.75,
        TokensSeen = step * 512,
        EpochProgress = 0.25,
        CheckpointBytes = checkpointBytes,
        CheckpointSeconds = checkpointBytes is null ? null : 0.125,
        System = new SystemStatsSampler(TimeProvider.System).Sample(),
    };

    [Fact]
    public async Task RecordAsync_JsonlAndPromFile_HoldEveryField()
    {
        var dir = Path.Combine(Path.GetTempPath(), "wf-training-tests", Guid.NewGuid().ToString("N"));
        var jsonl = Path.Combine(dir, "metrics.jsonl");
        await using (var metrics = new TrainingMetrics(new TrainingMetricsOptions { JsonlPath = jsonl }))
        {
            await metrics.RecordAsync(Record(10), CancellationToken.None);
            await metrics.RecordAsync(Record(20, checkpointBytes: 4096), CancellationToken.None);
        }

        var lines = File.ReadAllLines(jsonl);
        Assert.Equal(2, lines.Length);
        using var second = JsonDocument.Parse(lines[1]);
        var root = second.RootElement;
        Assert.Equal("stage3", root.GetProperty("stage").GetString());
        Assert.Equal(20, root.GetProperty("step").GetInt64());
        Assert.Equal(0.05, root.GetProperty("kl").GetDouble());
        Assert.Equal(0.5, root.GetProperty("lambda").GetDouble());
        Assert.Equal(4096, root.GetProperty("checkpoint_bytes").GetInt64());
        Assert.True(root.GetProperty("rss_bytes").GetInt64() > 0);
        Assert.False(JsonDocument.Parse(lines[0]).RootElement.TryGetProperty("checkpoint_bytes", out _));

        var prom = File.ReadAllText(Path.Combine(dir, "metrics.prom"));
        Assert.Contains("wf_train_step{stage=\"stage3\"} 20", prom, StringComparison.Ordinal);
        Assert.Contains("wf_train_loss{stage=\"stage3\",term=\"kl\"} 0.05", prom, StringComparison.Ordinal);
        Assert.Contains("wf_train_checkpoint_bytes{stage=\"stage3\"} 4096", prom, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PrometheusPort_ServesGaugesOnLoopback()
    {
        var port = LoopbackPorts.PickUnused();
        await using var metrics = new TrainingMetrics(new TrainingMetricsOptions { PrometheusPort = port });
        await metrics.RecordAsync(Record(7), CancellationToken.None);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var body = await http.GetStringAsync(new Uri($"http://127.0.0.1:{port}/metrics"));
        Assert.Contains("wf_train_tokens_per_second{stage=\"stage3\"} 1234.5", body, StringComparison.Ordinal);
        Assert.Contains("wf_train_quantization_lambda{stage=\"stage3\"} 0.5", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RecordAsync_NoGpu_GpuSeriesAndFieldsAreAbsentNotZero()
    {
        var dir = Path.Combine(Path.GetTempPath(), "wf-training-tests", Guid.NewGuid().ToString("N"));
        var jsonl = Path.Combine(dir, "metrics.jsonl");
        var port = LoopbackPorts.PickUnused();
        // What SystemStatsSampler gives where nvidia-smi is absent: process figures only.
        var record = Record(3) with { System = new SystemStats { CpuPercent = 12.5, RssBytes = 1 << 20 } };
        await using var metrics = new TrainingMetrics(new TrainingMetricsOptions { JsonlPath = jsonl, PrometheusPort = port });
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var url = new Uri($"http://127.0.0.1:{port}/metrics");

        Assert.DoesNotContain("wf_train_gpu_", await http.GetStringAsync(url), StringComparison.Ordinal);
        await metrics.RecordAsync(record, CancellationToken.None);

        var body = await http.GetStringAsync(url);
        Assert.Contains("wf_train_process_rss_bytes 1048576", body, StringComparison.Ordinal);
        Assert.DoesNotContain("wf_train_gpu_utilization_percent ", body, StringComparison.Ordinal);
        Assert.DoesNotContain("wf_train_gpu_memory_used_mib ", body, StringComparison.Ordinal);
        Assert.DoesNotContain("wf_train_gpu_", File.ReadAllText(Path.Combine(dir, "metrics.prom")), StringComparison.Ordinal);
        var line = JsonDocument.Parse(File.ReadAllLines(jsonl).Single()).RootElement;
        Assert.Equal(12.5, line.GetProperty("cpu_percent").GetDouble());
        Assert.DoesNotContain(line.EnumerateObject(), p => p.Name.StartsWith("gpu_", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RecordAsync_WithGpu_ExportsTheGpuFigures()
    {
        var record = Record(3) with { System = new SystemStats { CpuPercent = 1, RssBytes = 1, GpuUtilizationPercent = 87, GpuMemoryUsedMiB = 4096, GpuMemoryTotalMiB = 81920 } };
        await using var metrics = new TrainingMetrics(new TrainingMetricsOptions());
        await metrics.RecordAsync(record, CancellationToken.None);

        using var export = new MemoryStream();
        await metrics.Registry.CollectAndExportAsTextAsync(export);
        var text = System.Text.Encoding.UTF8.GetString(export.ToArray());
        Assert.Contains("wf_train_gpu_utilization_percent 87", text, StringComparison.Ordinal);
        Assert.Contains("wf_train_gpu_memory_used_mib 4096", text, StringComparison.Ordinal);
        var line = JsonDocument.Parse(metrics.ToJson(record)).RootElement;
        Assert.Equal(87, line.GetProperty("gpu_util_percent").GetDouble());
        Assert.Equal(81920, line.GetProperty("gpu_mem_total_mib").GetDouble());
    }

    [Fact]
    public void Describe_PlainLine_NamesStepLossAndCheckpoint()
    {
        var line = TrainingConsole.Describe(Record(20, checkpointBytes: 2_000_000));
        Assert.StartsWith("stage3 step 20/100 loss 2.5000 ce 2.0000 kl 0.0500 lr 0.001 lambda 0.5", line, StringComparison.Ordinal);
        Assert.Contains("checkpoint 2.0 MB", line, StringComparison.Ordinal);
    }
}
