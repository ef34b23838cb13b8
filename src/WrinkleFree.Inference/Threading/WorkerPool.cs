using System.Runtime.ExceptionServices;

namespace WrinkleFree.Inference.Threading;

/// <summary>
/// A persistent pool of threads for the engine's hot loops: <see cref="Run"/> splits a range of items over the pool and the
/// calling thread, allocates nothing, and costs a few microseconds because idle workers spin briefly before blocking.
/// </summary>
/// <remarks>
/// Work is claimed chunk by chunk from a cursor that carries the run's generation in its high 32 bits, and <see cref="Run"/>
/// waits for the items to be done, not for every worker to show up. On a busy machine a worker that the OS has not scheduled
/// yet therefore costs nothing: the caller takes its chunks, and the late worker's claim fails against the new generation.
/// </remarks>
public sealed class WorkerPool : IDisposable
{
    // Spinning this many iterations (~tens of microseconds) keeps workers hot between the back-to-back matmuls of a token
    // without burning a core for long when the engine is idle.
    private const int SpinIterations = 20_000;

    // Several chunks per thread let a thread that was preempted (the machine is shared) hand its share to the others.
    private const int ChunksPerThread = 4;

    private const int Closed = int.MaxValue;

    private readonly Thread[] _workers;
    private readonly object _gate = new();
    private IParallelWork? _work;
    private int _items;
    private int _chunk;
    private long _cursor = Closed;
    private int _done;
    private int _runGeneration;
    private long _wakeGeneration;
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

    /// <summary>Runs <paramref name="work"/> over [0, <paramref name="items"/>) on all threads and returns when every item is done.</summary>
    /// <remarks>Not reentrant: one <see cref="Run"/> at a time per pool. An exception thrown by the work is rethrown here.</remarks>
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

        _work = work;
        _items = items;
        _chunk = Math.Max(1, (items + Threads * ChunksPerThread - 1) / (Threads * ChunksPerThread));
        _failure = null;
        Volatile.Write(ref _done, 0);
        var generation = ++_runGeneration;
        // Publishing the cursor (release) makes the fields above visible to any worker that reads it (acquire).
        Volatile.Write(ref _cursor, (long)generation << 32);

        // The increment is a full fence: a worker either sees the new generation or has registered as a sleeper first.
        Interlocked.Increment(ref _wakeGeneration);
        if (Volatile.Read(ref _sleepers) > 0)
        {
            lock (_gate)
            {
                Monitor.PulseAll(_gate);
            }
        }

        Drain();
        var spin = new SpinWait();
        while (Volatile.Read(ref _done) < items)
        {
            // No Sleep(1): a 1 ms nap would dwarf a matmul; yielding is enough when a worker was preempted mid-chunk.
            spin.SpinOnce(sleep1Threshold: -1);
        }

        // Close the generation so that a worker still holding the old cursor value cannot claim anything.
        Volatile.Write(ref _cursor, ((long)generation << 32) | Closed);
        _work = null;
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
        Interlocked.Increment(ref _wakeGeneration);
        lock (_gate)
        {
            Monitor.PulseAll(_gate);
        }

        foreach (var worker in _workers)
        {
            worker.Join();
        }
    }

    /// <summary>Claims and runs chunks of the current generation until none are left.</summary>
    private void Drain()
    {
        while (true)
        {
            var cursor = Volatile.Read(ref _cursor);
            var start = (int)cursor;
            var items = _items;
            var work = _work;
            if (start >= items || work is null)
            {
                return;
            }

            var end = Math.Min(items, start + _chunk);
            // The compare-exchange fails if the generation moved on after the fields above were read, so a late
            // worker never runs one generation's work on another's range.
            if (Interlocked.CompareExchange(ref _cursor, cursor + (end - start), cursor) != cursor)
            {
                continue;
            }

            try
            {
                work.Execute(start, end);
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref _failure, e, null);
            }
            finally
            {
                Interlocked.Add(ref _done, end - start);
            }
        }
    }

    private void WorkerLoop()
    {
        long seen = 0;
        while (true)
        {
            seen = WaitForGeneration(seen);
            if (_disposed)
            {
                return;
            }

            Drain();
        }
    }

    private long WaitForGeneration(long seen)
    {
        for (var i = 0; i < SpinIterations; i++)
        {
            var generation = Volatile.Read(ref _wakeGeneration);
            if (generation != seen)
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
                    var generation = Volatile.Read(ref _wakeGeneration);
                    if (generation != seen)
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
}
