using WrinkleFree.Inference.Threading;

namespace WrinkleFree.Inference.Tests.Threading;

public sealed class WorkerPoolTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void Run_ManySizes_ExecutesEveryItemExactlyOnce(int threads)
    {
        using var pool = new WorkerPool(threads);
        foreach (var items in new[] { 0, 1, 2, 3, 7, 64, 641, 6912 })
        {
            var work = new CountingWork(items);
            pool.Run(work, items);
            Assert.All(work.Hits, h => Assert.Equal(1, h));
        }
    }

    [Theory]
    [InlineData(1, 2)]
    [InlineData(2, 4)]
    [InlineData(16, 32)]
    public void ChunksPerThread_CutsEachRunIntoThatManyClaims(int chunksPerThread, int expectedCalls)
    {
        using var pool = new WorkerPool(2) { ChunksPerThread = chunksPerThread };
        var work = new CountingWork(6912);
        pool.Run(work, 6912);
        Assert.All(work.Hits, h => Assert.Equal(1, h));
        Assert.Equal(expectedCalls, work.Calls);
        Assert.Throws<ArgumentOutOfRangeException>(() => pool.ChunksPerThread = 0);
        Assert.Equal(chunksPerThread, pool.ChunksPerThread);
    }

    [Theory]
    [InlineData(2, 2, 6912, new[] { 0, 1728, 3456, 5184, 6912 })]
    [InlineData(2, 1, 6912, new[] { 0, 3456, 6912 })]
    [InlineData(3, 2, 100, new[] { 0, 17, 33, 50, 66, 83, 100 })]
    public void Run_CutsOneContiguousSharePerThreadIntoItsChunks(int threads, int chunksPerThread, int items, int[] bounds)
    {
        // A thread's chunks are neighbours in its own share (so its memory streams run on across chunk boundaries), and
        // no chunk crosses into another share, whichever thread ends up running it.
        using var pool = new WorkerPool(threads) { ChunksPerThread = chunksPerThread };
        for (var round = 0; round < 50; round++)
        {
            var work = new RangeWork();
            pool.Run(work, items);
            var ranges = work.Ranges.OrderBy(r => r.Start).ToArray();
            Assert.Equal(bounds[..^1], ranges.Select(r => r.Start));
            Assert.Equal(bounds[1..], ranges.Select(r => r.End));
        }
    }

    [Fact]
    public void Run_ThousandsOfTimes_NeverLosesOrRepeatsItems()
    {
        using var pool = new WorkerPool(2);
        var work = new CountingWork(37);
        for (var i = 0; i < 5000; i++)
        {
            pool.Run(work, 37);
        }

        Assert.All(work.Hits, h => Assert.Equal(5000, h));
    }

    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(8)]
    public async Task Run_GrowingRunsBackToBack_NoStaleWorkerClaimsTheNextRun(int threads)
    {
        // A worker still inside the last run's claim loop once saw the next run's larger item count before that run had
        // started, claimed items past the end of the finished run and counted them into the new one: the caller then
        // waited forever for a total it had overshot (found as a 25-minute hang of the engine bench), or ran the new work
        // twice. Oversubscribed threads get preempted at every point of the claim loop, so thousands of small runs
        // alternating with larger ones reach that window.
        using var pool = new WorkerPool(threads);
        var sizes = new[] { 2, 3, 40, 5, 97, 4 };
        var runs = Task.Run(() =>
        {
            for (var i = 0; i < 200_000; i++)
            {
                var items = sizes[i % sizes.Length];
                var work = new CountingWork(items);
                pool.Run(work, items);
                Assert.Equal(0, work.OutOfRange);
                Assert.All(work.Hits, h => Assert.Equal(1, h));
            }
        });

        var finished = await Task.WhenAny(runs, Task.Delay(TimeSpan.FromMinutes(1))) == runs;
        Assert.True(finished, "a run never finished: the caller is still waiting for items");
        await runs;
    }

    [Fact]
    public void Run_WorkThrows_RethrowsAndPoolStaysUsable()
    {
        using var pool = new WorkerPool(2);
        Assert.Throws<InvalidOperationException>(() => pool.Run(new ThrowingWork(), 100));
        var work = new CountingWork(100);
        pool.Run(work, 100);
        Assert.All(work.Hits, h => Assert.Equal(1, h));
    }

    [Fact]
    public void Run_SteadyState_AllocatesNothing()
    {
        using var pool = new WorkerPool(2);
        var work = new CountingWork(256);
        SteadyState.AssertAllocatesNothing(_ => pool.Run(work, 256), iterations: 100, warmUp: 1);
    }

    [Fact]
    public void Constructor_ZeroThreads_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new WorkerPool(0));
    }

    [Fact]
    public void Run_AfterDispose_Throws()
    {
        var pool = new WorkerPool(2);
        pool.Dispose();
        Assert.Throws<ObjectDisposedException>(() => pool.Run(new CountingWork(4), 4));
    }

    private sealed class CountingWork(int items) : IParallelWork
    {
        private int _calls;

        public int[] Hits { get; } = new int[items];

        public int Calls => Volatile.Read(ref _calls);

        public int OutOfRange => Volatile.Read(ref _outOfRange);

        private int _outOfRange;

        public void Execute(int start, int end)
        {
            Interlocked.Increment(ref _calls);
            if (start < 0 || end > Hits.Length)
            {
                Interlocked.Increment(ref _outOfRange);
                return;
            }

            for (var i = start; i < end; i++)
            {
                Interlocked.Increment(ref Hits[i]);
            }
        }
    }

    private sealed class RangeWork : IParallelWork
    {
        private readonly System.Collections.Concurrent.ConcurrentBag<(int Start, int End)> _ranges = [];

        public IEnumerable<(int Start, int End)> Ranges => _ranges;

        public void Execute(int start, int end) => _ranges.Add((start, end));
    }

    private sealed class ThrowingWork : IParallelWork
    {
        public void Execute(int start, int end) => throw new InvalidOperationException("boom");
    }
}
