using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using WrinkleFree.Inference.Threading;

namespace WrinkleFree.Bench;

/// <summary>
/// The compute roofline next to the memory one: int8 multiply-accumulates per second when every thread does nothing but
/// the ternary kernels' inner step (vpmaddubsw into 16-bit sums, vpaddw), on register data, eight independent chains per
/// thread. A multi-sequence decode step is compute-bound; its MACs over this rate is the least time it can take with
/// these instructions.
/// </summary>
internal static class MacCeiling
{
    private const long Iterations = 20_000_000;

    // 8 vpmaddubsw per iteration × 64 products each.
    private const int MacsPerIteration = 8 * 64;

    /// <summary>Best of three runs, in 10^9 multiply-accumulates per second over all threads of <paramref name="pool"/>.</summary>
    public static double MeasureGMacs(WorkerPool pool)
    {
        if (!Avx512BW.IsSupported)
        {
            return double.NaN;
        }

        var work = new Work();
        pool.Run(work, pool.Threads); // warm-up and JIT
        var best = 0.0;
        for (var run = 0; run < 3; run++)
        {
            var start = Stopwatch.GetTimestamp();
            pool.Run(work, pool.Threads);
            var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            best = Math.Max(best, (double)Iterations * MacsPerIteration * pool.Threads / seconds / 1e9);
        }

        return best;
    }

    private sealed class Work : IParallelWork
    {
        public long Sink;

        public void Execute(int start, int end)
        {
            for (var i = start; i < end; i++)
            {
                Interlocked.Add(ref Sink, Loop(Vector512.Create((byte)(2 + i)), Vector512.Create((sbyte)3)).GetElement(0));
            }
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static Vector512<short> Loop(Vector512<byte> codes, Vector512<sbyte> q)
        {
            Vector512<short> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
            var q1 = q + Vector512<sbyte>.One;
            var q2 = q1 + q1;
            var q3 = q2 + q;
            var q4 = q3 + q1;
            var q5 = q4 + q1;
            var q6 = q5 + q1;
            var q7 = q6 + q1;
            for (long i = 0; i < Iterations; i++)
            {
                a0 += Avx512BW.MultiplyAddAdjacent(codes, q);
                a1 += Avx512BW.MultiplyAddAdjacent(codes, q1);
                a2 += Avx512BW.MultiplyAddAdjacent(codes, q2);
                a3 += Avx512BW.MultiplyAddAdjacent(codes, q3);
                a4 += Avx512BW.MultiplyAddAdjacent(codes, q4);
                a5 += Avx512BW.MultiplyAddAdjacent(codes, q5);
                a6 += Avx512BW.MultiplyAddAdjacent(codes, q6);
                a7 += Avx512BW.MultiplyAddAdjacent(codes, q7);
                // A changing operand keeps the JIT from hoisting the products out of the loop.
                codes += Vector512<byte>.One;
            }

            return a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7;
        }
    }
}
