using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using WrinkleFree.Inference.Threading;

namespace WrinkleFree.Inference.Tensors;

/// <summary>Measures the machine's memory read bandwidth: the roofline the matrix kernels are judged against.</summary>
public static unsafe class MemoryBandwidth
{
    private const int ChunkBytes = 1 << 20;

    /// <summary>
    /// Streams <paramref name="bytes"/> (default 256 MiB, larger than the caches) with SIMD loads on all pool threads and
    /// returns the best of <paramref name="passes"/> passes in GB/s (10^9 bytes per second).
    /// </summary>
    public static double MeasureReadGBps(WorkerPool pool, long bytes = 256L << 20, int passes = 5)
    {
        ArgumentNullException.ThrowIfNull(pool);
        ArgumentOutOfRangeException.ThrowIfLessThan(bytes, ChunkBytes);
        ArgumentOutOfRangeException.ThrowIfLessThan(passes, 1);
        var chunks = (int)(bytes / ChunkBytes);
        var size = (nuint)chunks * ChunkBytes;
        // On huge pages, as the engine's repacked weights are: the probe measures the best the memory system gives.
        var buffer = Native.HugePageMemory.Allocate((long)size);
        try
        {
            // Touch every page first so the passes measure reads, not page faults.
            NativeMemory.Fill(buffer, size, 1);
            var work = new ReadWork(buffer);
            var best = 0.0;
            for (var pass = 0; pass < passes; pass++)
            {
                var start = Stopwatch.GetTimestamp();
                pool.Run(work, chunks);
                var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
                best = Math.Max(best, size / seconds / 1e9);
            }

            GC.KeepAlive(work.Sink);
            return best;
        }
        finally
        {
            Native.HugePageMemory.Free(buffer);
        }
    }

    private sealed class ReadWork(byte* buffer) : IParallelWork
    {
        public long Sink;

        public void Execute(int start, int end)
        {
            // Four independent accumulators keep enough loads in flight to saturate the memory system.
            Vector512<long> a0 = default, a1 = default, a2 = default, a3 = default;
            var p = buffer + (long)start * ChunkBytes;
            var stop = buffer + (long)end * ChunkBytes;
            for (; p < stop; p += 256)
            {
                a0 += Vector512.Load((long*)p);
                a1 += Vector512.Load((long*)(p + 64));
                a2 += Vector512.Load((long*)(p + 128));
                a3 += Vector512.Load((long*)(p + 192));
            }

            Interlocked.Add(ref Sink, Vector512.Sum(a0 + a1 + a2 + a3));
        }
    }
}
