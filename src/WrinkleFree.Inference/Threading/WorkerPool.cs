using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;

namespace WrinkleFree.Inference.Threading;

/// <summary>
/// A persistent pool of threads for the engine's hot loops: <see cref="Run"/> splits a range of items over the pool and the
/// calling thread, allocates nothing, and costs well under a microsecond when workers are hot because idle workers spin
/// briefly before blocking.
/// </summary>
/// <remarks>
/// Each run is cut into one contiguous share per thread, and each share into chunks claimed in order with a
/// compare-and-swap on the share's word (generation, next item). A thread works through its own share first, so its
/// chunks follow one another in memory (the weight stream and its prefetches run on across chunk boundaries), then helps
/// with the others' remaining chunks. The caller waits only for claimed chunks to finish: a worker that is asleep or
/// preempted when a run starts never delays it, since the caller (or another worker) claims its share's chunks too.
/// </remarks>
public sealed class WorkerPool : IDisposable
{
    // Spinning this many iterations (tens of microseconds) keeps workers hot between the back-to-back matmuls of a token
    // without burning a core for long when the engine is idle.
    private const int SpinIterations = 20_000;

    // Two chunks per share let a thread take over half of a slow thread's share. Each chunk boundary restarts the
    // kernels' memory streams: measured at 2 threads (profile --chunks, kernels), decode read 1-2 points more of the probe
    // with 2 chunks than with 4, and 16-token GEMMs on 2560-row matrices ran 3-9 % faster once a thread's chunks were
    // contiguous.
    private const int DefaultChunksPerThread = 2;

    private readonly Thread[] _workers;
    private readonly object _gate = new();
    private IParallelWork _work = Idle.Instance;
    private int _chunk;
    private int _chunksPerThread = DefaultChunksPerThread;

    // Per share, on its own cache line (index s · LineLongs): high 32 bits the run generation, low 32 bits the share's next
    // unclaimed item. _shareEnds[s] is where share s stops.
    private const int LineLongs = 8;
    private readonly long[] _shares;
    private readonly int[] _shareEnds;

    // The generation of the latest run: workers watch it to start.
    private long _generation;
    private int _done;
    private int _sleepers;
    private volatile bool _disposed;
    private Exception? _failure;

    /// <summary>Creates a pool of <paramref name="threads"/> threads in total, counting the thread that calls <see cref="Run"/>.</summary>
    public WorkerPool(int threads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        Threads = threads;
        _shares = new long[threads * LineLongs];
        _shareEnds = new int[threads];
        _workers = new Thread[threads - 1];
        for (var i = 0; i < _workers.Length; i++)
        {
            var share = i + 1;
            _workers[i] = new Thread(() => WorkerLoop(share)) { IsBackground = true, Name = $"wf-worker-{share}" };
            _workers[i].Start();
        }
    }

    /// <summary>Total threads that execute work, the caller included.</summary>
    public int Threads { get; }

    /// <summary>
    /// How many chunks each thread's share of a run is cut into (claimed dynamically). More chunks rebalance a preempted
    /// thread's share; fewer restart fewer memory streams.
    /// </summary>
    public int ChunksPerThread
    {
        get => _chunksPerThread;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            _chunksPerThread = value;
        }
    }

    /// <summary>Runs <paramref name="work"/> over [0, <paramref name="items"/>) on all threads and returns when every item is done.</summary>
    /// <remarks>Not reentrant: one <see cref="Run"/> at a time per pool. An exception thrown by the work is rethrown here.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Run(IParallelWork work, int items)
    {
        ArgumentNullException.ThrowIfNull(work);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (items <= 0)
        {
            return;
        }

        if (_workers.Length == 0 || items == 1)
        {
            work.Execute(0, items);
            return;
        }

        // Close the finished run's claim words before rewriting the fields its claims read. A worker can still be inside
        // the last run's Drain with a share's state in hand (every item claimed, next == the old share end); were the word
        // left open, it would compare that next with the new, larger share end, claim past the old end under the old
        // generation, run the new work on it and count it into the new _done, which then overshoots and the wait below
        // never ends (a 25-minute hang of the engine bench). Once closed, such a claim fails its compare-and-swap and the
        // worker re-reads a next of int.MaxValue, which no run reaches.
        var finished = (uint)Volatile.Read(ref _generation);
        for (var share = 0; share < Threads; share++)
        {
            Volatile.Write(ref _shares[share * LineLongs], ((long)finished << 32) | int.MaxValue);
        }

        // Every close is visible before any field below is rewritten (one fence rather than one locked write per share).
        Interlocked.MemoryBarrier();

        _work = work;
        var shareSize = (items + Threads - 1) / Threads;
        _chunk = Math.Max(1, (shareSize + _chunksPerThread - 1) / _chunksPerThread);
        _done = 0;
        _failure = null;
        var generation = finished + 1;
        for (var share = 0; share < Threads; share++)
        {
            _shareEnds[share] = (int)((long)items * (share + 1) / Threads);
        }

        // Each share starts where the one before ends. Release writes: a worker that sees a share open also sees the fields
        // written above.
        for (var share = 0; share < Threads; share++)
        {
            Volatile.Write(ref _shares[share * LineLongs], ((long)generation << 32) | (uint)(share == 0 ? 0 : _shareEnds[share - 1]));
        }

        // The exchange is a full fence: a worker either sees the new generation or has registered as a sleeper first.
        Interlocked.Exchange(ref _generation, generation);
        if (Volatile.Read(ref _sleepers) > 0)
        {
            lock (_gate)
            {
                Monitor.PulseAll(_gate);
            }
        }

        Drain(generation, 0);
        var spin = new SpinWait();
        while (Volatile.Read(ref _done) != items)
        {
            // No Sleep(1): a 1 ms nap would dwarf a matmul; yielding is enough when a worker was preempted mid-chunk.
            spin.SpinOnce(sleep1Threshold: -1);
        }

        if (_failure is { } failure)
        {
            ExceptionDispatchInfo.Capture(failure).Throw();
        }
    }

    /// <summary>Stops the worker threads.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        Interlocked.Increment(ref _generation);
        lock (_gate)
        {
            Monitor.PulseAll(_gate);
        }

        foreach (var worker in _workers)
        {
            worker.Join();
        }
    }

    private static uint Generation(long state) => (uint)(state >> 32);

    /// <summary>
    /// Claims and runs chunks of run <paramref name="generation"/> until none is left: share <paramref name="first"/>'s in
    /// order, then the other shares'.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Drain(uint generation, int first)
    {
        for (var k = 0; k < Threads; k++)
        {
            var share = first + k < Threads ? first + k : first + k - Threads;
            ref var word = ref _shares[share * LineLongs];
            while (true)
            {
                var state = Volatile.Read(ref word);
                if (Generation(state) != generation)
                {
                    return;
                }

                // These fields belong to this generation if the claim below succeeds: a new run rewrites them only after
                // closing this run's words (see Run), which makes the claim fail.
                var next = (int)(uint)state;
                var shareEnd = _shareEnds[share];
                if (next >= shareEnd)
                {
                    break;
                }

                var work = _work;
                var end = Math.Min(shareEnd, next + _chunk);
                if (Interlocked.CompareExchange(ref word, state + (end - next), state) != state)
                {
                    continue;
                }

                try
                {
                    work.Execute(next, end);
                }
                catch (Exception e)
                {
                    Interlocked.CompareExchange(ref _failure, e, null);
                }

                Interlocked.Add(ref _done, end - next);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void WorkerLoop(int share)
    {
        uint seen = 0;
        while (true)
        {
            seen = WaitForGeneration(seen);
            if (_disposed)
            {
                return;
            }

            Drain(seen, share);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private uint WaitForGeneration(uint seen)
    {
        for (var i = 0; i < SpinIterations; i++)
        {
            var generation = (uint)Volatile.Read(ref _generation);
            if (generation != seen || _disposed)
            {
                return generation;
            }

            Thread.SpinWait(1);
        }

        lock (_gate)
        {
            Interlocked.Increment(ref _sleepers);
            try
            {
                while (true)
                {
                    var generation = (uint)Volatile.Read(ref _generation);
                    if (generation != seen || _disposed)
                    {
                        return generation;
                    }

                    Monitor.Wait(_gate);
                }
            }
            finally
            {
                Interlocked.Decrement(ref _sleepers);
            }
        }
    }

    private sealed class Idle : IParallelWork
    {
        public static readonly Idle Instance = new();

        public void Execute(int start, int end)
        {
        }
    }
}
