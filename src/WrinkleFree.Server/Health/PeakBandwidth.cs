using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using WrinkleFree.Inference.Threading;

namespace WrinkleFree.Server.Health;

/// <summary>
/// The start-up calibration behind bandwidth utilization: the best of a few passes that stream a buffer larger than the
/// caches with SIMD loads on every engine thread (see docs/operations.md).
/// </summary>
/// <remarks>
/// Stand-in with the same method as WrinkleFree.Inference.Tensors.MemoryBandwidth.MeasureReadGBps(pool), which lives on the
/// kernels branch; once both are merged, <see cref="MeasureGBps"/> should call it instead.
/// </remarks>
internal static unsafe class PeakBandwidth
{
    private const int ChunkBytes = 1 << 20;

    public static double MeasureGBps(int threads, long bytes = 256L << 20, int passes = 4)
    {
        using var pool = new WorkerPool(threads);
        var chunks = (int)(bytes / ChunkBytes);
        var size = (nuint)chunks * ChunkBytes;
        var buffer = (byte*)NativeMemory.AlignedAlloc(size, 64);
        try
        {
            // Touch every page first so the timed passes measure reads, not page faults.
            NativeMemory.Fill(buffer, size, 1);
            var work = new ReadWork(buffer);
            var best = 0.0;
            for (var pass = 0; pass < passes; pass++)
            {
                var start = Stopwatch.GetTimestamp();
                pool.Run(work, chunks);
                best = Math.Max(best, size / Stopwatch.GetElapsedTime(start).TotalSeconds / 1e9);
            }

            GC.KeepAlive(work);
            return best;
        }
        finally
        {
            NativeMemory.AlignedFree(buffer);
        }
    }

    private sealed class ReadWork(byte* buffer) : IParallelWork
    {
        private long _sink;

        public void Execute(int start, int end)
        {
            // Independent accumulators keep several loads in flight, which one dependent chain would not.
            Vector256<long> a0 = default, a1 = default, a2 = default, a3 = default;
            var p = buffer + (long)start * ChunkBytes;
            var stop = buffer + (long)end * ChunkBytes;
            for (; p < stop; p += 128)
            {
                a0 += Vector256.Load((long*)p);
                a1 += Vector256.Load((long*)(p + 32));
                a2 += Vector256.Load((long*)(p + 64));
                a3 += Vector256.Load((long*)(p + 96));
            }

            Interlocked.Add(ref _sink, Vector256.Sum(a0 + a1 + a2 + a3));
        }
    }
}
