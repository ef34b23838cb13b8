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
        ArgumentOutOfRangeException.ThrowIfLessThan(passes, 1);
        using var probe = new ReadProbe(pool, bytes);
        var best = 0.0;
        for (var pass = 0; pass < passes; pass++)
        {
            best = Math.Max(best, probe.Measure(probe.Bytes));
        }

        return best;
    }

    /// <summary>
    /// A buffer larger than the caches, allocated and touched once, that can be streamed again and again: for sampling the
    /// bandwidth between other measurements (a benchmark that interleaves it with decode steps compares each step with
    /// the bandwidth the machine gave at that moment).
    /// </summary>
    public sealed class ReadProbe : IDisposable
    {
        private readonly WorkerPool _pool;
        private readonly ReadWork _work;
        private byte* _buffer;

        public ReadProbe(WorkerPool pool, long bytes = 256L << 20)
        {
            ArgumentNullException.ThrowIfNull(pool);
            ArgumentOutOfRangeException.ThrowIfLessThan(bytes, ChunkBytes);
            _pool = pool;
            Chunks = (int)(bytes / ChunkBytes);
            // On huge pages, as the engine's repacked weights are: the probe measures the best the memory system gives.
            _buffer = Native.HugePageMemory.Allocate((long)Chunks * ChunkBytes);
            // Touch every page first so the passes measure reads, not page faults.
            NativeMemory.Fill(_buffer, (nuint)Chunks * ChunkBytes, 1);
            _work = new ReadWork(_buffer, Chunks);
        }

        private int Chunks { get; }

        /// <summary>The buffer's size: one pass over it.</summary>
        public long Bytes => (long)Chunks * ChunkBytes;

        /// <summary>The wrapping sum of every 64-bit word read so far (what keeps the loads from being optimized away).</summary>
        internal long Checksum => Interlocked.Read(ref _work.Sink);

        /// <summary>Reads <paramref name="bytes"/> (rounded to whole MiB, wrapping around the buffer) on all pool threads; GB/s.</summary>
        public double Measure(long bytes)
        {
            ObjectDisposedException.ThrowIf(_buffer == null, this);
            var chunks = (int)Math.Max(1, bytes / ChunkBytes);
            var start = Stopwatch.GetTimestamp();
            _pool.Run(_work, chunks);
            var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            GC.KeepAlive(_work.Sink);
            return (double)chunks * ChunkBytes / seconds / 1e9;
        }

        public void Dispose()
        {
            if (_buffer != null)
            {
                Native.HugePageMemory.Free(_buffer);
                _buffer = null;
            }
        }
    }

    private sealed class ReadWork(byte* buffer, int bufferChunks) : IParallelWork
    {
        public long Sink;

        public void Execute(int start, int end)
        {
            // Four independent accumulators keep enough loads in flight to saturate the memory system.
            Vector512<long> a0 = default, a1 = default, a2 = default, a3 = default;
            for (var chunk = start; chunk < end; chunk++)
            {
                var p = buffer + (long)(chunk % bufferChunks) * ChunkBytes;
                var stop = p + ChunkBytes;
                for (; p < stop; p += 256)
                {
                    a0 += Vector512.Load((long*)p);
                    a1 += Vector512.Load((long*)(p + 64));
                    a2 += Vector512.Load((long*)(p + 128));
                    a3 += Vector512.Load((long*)(p + 192));
                }
            }

            Interlocked.Add(ref Sink, Vector512.Sum(a0 + a1 + a2 + a3));
        }
    }
}
