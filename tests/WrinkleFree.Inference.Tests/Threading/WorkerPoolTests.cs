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

        public void Execute(int start, int end)
        {
            Interlocked.Increment(ref _calls);
            for (var i = start; i < end; i++)
            {
                Interlocked.Increment(ref Hits[i]);
            }
        }
    }

    private sealed class ThrowingWork : IParallelWork
    {
        public void Execute(int start, int end) => throw new InvalidOperationException("boom");
    }
}
