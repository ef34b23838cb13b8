using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;

namespace WrinkleFree.Inference.Threading;

/// <summary>
/// A persistent pool of threads for the engine's hot loops: <see cref="Run"/> splits a range of items over the pool and the
/// calling thread, allocates nothing, and costs well under a microsecond when workers are hot because idle workers spin
/// briefly before blocking.
/// </summary>
/// <remarks>
/// Chunks are claimed with a compare-and-swap on one word holding (generation, next item), and the caller waits only for
/// claimed chunks to finish. A worker that is asleep or preempted when a run starts therefore never delays it: on a
/// machine shared with other processes the caller simply does the work itself.
/// </remarks>
public sealed class WorkerPool : IDisposable
{
    // Spinning this many iterations (tens of microseconds) keeps workers hot between the back-to-back matmuls of a token
    // without burning a core for long when the engine is idle.
    private const int SpinIterations = 20_000;

    // Several chunks per thread let one thread pick up the share of another that was preempted.
    private const int DefaultChunksPerThread = 4;

    private readonly Thread[] _workers;
    private readonly object _gate = new();
    private IParallelWork _work = Idle.Instance;
    private int _items;
    private int _chunk;
    private int _chunksPerThread = DefaultChunksPerThread;

    // High 32 bits: run generation; low 32 bits: next unclaimed item.
    private long _state;
    private int _done;
    private int _sleepers;
    private volatile bool _disposed;
    private Exception? _failure;

    /// <summary>Creates a pool of <paramref name="threads"/> threads in total, counting the thread that calls <see cref="Run"/>.</summary>
    public WorkerPool(int threads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        Threads = threads;
        _workers = new Thread[threads - 1];
        for (var i = 0; i < _workers.Length; i++)
        {
            _workers[i] = new Thread(WorkerLoop) { IsBackground = true, Name = $"wf-worker-{i + 1}" };
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

        // Close the finished run's claim word before rewriting the fields its claims read. A worker can still be inside
        // the last run's Drain with that run's state in hand (every item claimed, next == the old item count); were the
        // word left open, it would compare that next with the new, larger _items, claim past the old end under the old
        // generation, run the new work on it and count it into the new _done, which then overshoots and the wait below
        // never ends (a 25-minute hang of the engine bench). Once closed, such a claim fails its compare-and-swap and the
        // worker re-reads a next of int.MaxValue, which no run reaches.
        var finished = Generation(Volatile.Read(ref _state));
        Interlocked.Exchange(ref _state, ((long)finished << 32) | int.MaxValue);
        _work = work;
        _items = items;
        _chunk = Math.Max(1, (items + Threads * _chunksPerThread - 1) / (Threads * _chunksPerThread));
        _done = 0;
        _failure = null;
        var generation = finished + 1;

        // The exchange is a full fence: a worker either sees the new generation or has registered as a sleeper first.
        Interlocked.Exchange(ref _state, (long)generation << 32);
        if (Volatile.Read(ref _sleepers) > 0)
        {
            lock (_gate)
            {
                Monitor.PulseAll(_gate);
            }
        }

        Drain(generation);
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
        Interlocked.Add(ref _state, 1L << 32);
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

    /// <summary>Claims and runs chunks of run <paramref name="generation"/> until none is left.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Drain(uint generation)
    {
        while (true)
        {
            var state = Volatile.Read(ref _state);
            var next = (int)(uint)state;
            if (Generation(state) != generation || next >= _items)
            {
                return;
            }

            // These fields belong to this generation if the claim below succeeds: a new run rewrites them only after
            // closing this run's state word (see Run), which makes the claim fail.
            var work = _work;
            var end = Math.Min(_items, next + _chunk);
            if (Interlocked.CompareExchange(ref _state, state + (end - next), state) != state)
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

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void WorkerLoop()
    {
        uint seen = 0;
        while (true)
        {
            seen = WaitForGeneration(seen);
            if (_disposed)
            {
                return;
            }

            Drain(seen);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private uint WaitForGeneration(uint seen)
    {
        for (var i = 0; i < SpinIterations; i++)
        {
            var generation = Generation(Volatile.Read(ref _state));
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
                    var generation = Generation(Volatile.Read(ref _state));
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
