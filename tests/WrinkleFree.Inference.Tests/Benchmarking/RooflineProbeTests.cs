using WrinkleFree.Inference.Benchmarking;
using WrinkleFree.Inference.Gguf;
using WrinkleFree.Inference.Models;
using WrinkleFree.Inference.Tensors;
using WrinkleFree.Inference.Tests.Models;
using WrinkleFree.Inference.Threading;

namespace WrinkleFree.Inference.Tests.Benchmarking;

[Collection(SyntheticModelCollection.Name)]
public sealed class RooflineProbeTests(SyntheticModelFixture models)
{
    private const long MiB = 1 << 20;

    // The probe's buffer is filled with 0x01 bytes: every 64-bit word it reads adds this.
    private const long Word = 0x0101010101010101;

    [Fact]
    public void ReadProbe_ReadsWhatItIsAsked_WrappingAroundItsBuffer()
    {
        using var pool = new WorkerPool(2);
        using var probe = new MemoryBandwidth.ReadProbe(pool, 4 * MiB);
        Assert.Equal(4 * MiB, probe.Bytes);

        // 10 MiB over a 4 MiB buffer: the passes wrap, and every word read counts once.
        var rate = probe.Measure(10 * MiB);
        Assert.True(rate > 0 && double.IsFinite(rate), $"rate {rate}");
        Assert.Equal(unchecked(10 * MiB / 8 * Word), probe.Checksum);

        // Less than a chunk still reads one whole chunk (1 MiB).
        probe.Measure(1000);
        Assert.Equal(unchecked(11 * MiB / 8 * Word), probe.Checksum);
    }

    [Fact]
    public void ReadProbe_RefusesATinyBuffer_AndUseAfterDispose()
    {
        using var pool = new WorkerPool(1);
        Assert.Throws<ArgumentOutOfRangeException>(() => new MemoryBandwidth.ReadProbe(pool, 4096));
        var probe = new MemoryBandwidth.ReadProbe(pool, MiB);
        probe.Dispose();
        probe.Dispose();
        Assert.Throws<ObjectDisposedException>(() => probe.Measure(MiB));
    }

    [Fact]
    public void Interleaved_ReportsMediansOfEveryStepAgainstItsNeighbouringProbes()
    {
        using var model = Model.Load(models.Path(GgmlType.I2_S));
        var result = EngineBenchmark.Interleaved(model, threads: 2, steps: 5, warmup: 1);
        Assert.Equal(2, result.Threads);
        Assert.Equal(5, result.Steps);
        Assert.True(result.DecodeGBps > 0 && double.IsFinite(result.DecodeGBps), $"decode {result.DecodeGBps}");
        Assert.True(result.ProbeGBps > 0 && double.IsFinite(result.ProbeGBps), $"probe {result.ProbeGBps}");
        Assert.True(result.Fraction > 0 && double.IsFinite(result.Fraction), $"fraction {result.Fraction}");
        Assert.Throws<ArgumentOutOfRangeException>(() => EngineBenchmark.Interleaved(model, threads: 1, steps: 0));
    }

    [Fact]
    public void Interleaved_SeveralChunkings_OneResultEach_OverTheirOwnSteps()
    {
        using var model = Model.Load(models.Path(GgmlType.TQ2_0));
        var results = EngineBenchmark.Interleaved(model, threads: 2, steps: 3, warmup: 1, [1, 4, 0]);
        Assert.Equal(3, results.Length);
        Assert.All(results, r =>
        {
            Assert.Equal(3, r.Steps);
            Assert.True(r.Fraction > 0 && double.IsFinite(r.Fraction), $"fraction {r.Fraction}");
        });
        Assert.Throws<ArgumentOutOfRangeException>(() => EngineBenchmark.Interleaved(model, 1, 3, 1, []));
    }
}
