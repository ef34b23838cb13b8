using WrinkleFree.Inference.Tensors;
using WrinkleFree.Inference.Threading;

namespace WrinkleFree.Replica.Health;

/// <summary>
/// The start-up calibration behind bandwidth utilization: the engine's own read-bandwidth measurement (best of a few SIMD
/// streaming passes over a buffer larger than the caches, on every engine thread; see docs/operations.md).
/// </summary>
internal static class PeakBandwidth
{
    public static double MeasureGBps(int threads)
    {
        using var pool = new WorkerPool(Math.Max(1, threads));
        return MemoryBandwidth.MeasureReadGBps(pool, passes: 4);
    }
}
