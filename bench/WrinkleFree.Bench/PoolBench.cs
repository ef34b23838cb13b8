using System.Diagnostics;
using WrinkleFree.Inference.Threading;

namespace WrinkleFree.Bench;

/// <summary>Round-trip cost of <see cref="WorkerPool.Run"/> with trivial work: the fixed price of every matmul.</summary>
internal static class PoolBench
{
    public static int Run(string[] args)
    {
        var threads = args.Length > 1 && args[0] == "--threads" ? int.Parse(args[1]) : Environment.ProcessorCount;
        using var pool = new WorkerPool(threads);
        var work = new Nothing();
        const int calls = 200_000;
        for (var round = 0; round < 3; round++)
        {
            var start = Stopwatch.GetTimestamp();
            for (var i = 0; i < calls; i++)
            {
                pool.Run(work, 64);
            }

            Console.WriteLine($"threads={threads} WorkerPool.Run round trip: {Stopwatch.GetElapsedTime(start).TotalMicroseconds / calls:F2} us");
        }

        return 0;
    }

    private sealed class Nothing : IParallelWork
    {
        public void Execute(int start, int end)
        {
        }
    }
}
