using System.Runtime.ExceptionServices;

namespace WrinkleFree.Inference.Threading;

/// <summary>
/// A persistent pool of threads for the engine's hot loops: <see cref="Run"/> splits a range of items over the pool and the
/// calling thread, allocates nothing, and costs a few microseconds because idle workers spin briefly before blocking.
/// </summary>
public sealed class WorkerPool : IDisposable
{
    // Spinning this many iterations (~tens of microseconds) keeps workers hot between the back-to-back matmuls of a token
    // without burning a core for long when the engine is idle.
    private const int SpinIterations = 20_000;

    // Several chunks per thread let a thread that was preempted (the machine is shared) hand its share to the others.
    private const int ChunksPerThread = 4;

    private readonly Thread[] _workers;
    private readonly object _gate = new();
    private IParallelWork? _work;
    private int _items;
    private int _chunk;
    private int _next;
    private int _pending;
    private long _generation;
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
        _next = 0;
        _failure = null;
        Volatile.Write(ref _pending, _workers.Length);

        // The increment is a full fence: a worker either sees the new generation or has registered as a sleeper first.
        Interlocked.Increment(ref _generation);
        if (Volatile.Read(ref _sleepers) > 0)
        {
            lock (_gate)
            {
                Monitor.PulseAll(_gate);
            }
        }

        Exception? mine = null;
        try
        {
            Drain(work);
        }
        catch (Exception e)
        {
            mine = e;
            Volatile.Write(ref _next, int.MaxValue / 2);
        }

        var spin = new SpinWait();
        while (Volatile.Read(ref _pending) != 0)
        {
            // No Sleep(1): a 1 ms nap would dwarf a matmul; yielding is enough when a worker was preempted.
            spin.SpinOnce(sleep1Threshold: -1);
        }

        _work = null;
        var failure = mine ?? _failure;
        if (failure != null)
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

    private void Drain(IParallelWork work)
    {
        var items = _items;
        var chunk = _chunk;
        while (true)
        {
            var start = Interlocked.Add(ref _next, chunk) - chunk;
            if (start >= items)
            {
                return;
            }

            work.Execute(start, Math.Min(items, start + chunk));
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

            try
            {
                Drain(_work!);
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref _failure, e, null);
                // Stop the others from starting new chunks of failed work.
                Volatile.Write(ref _next, int.MaxValue / 2);
            }

            Interlocked.Decrement(ref _pending);
        }
    }

    private long WaitForGeneration(long seen)
    {
        for (var i = 0; i < SpinIterations; i++)
        {
            var generation = Volatile.Read(ref _generation);
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
                    var generation = Volatile.Read(ref _generation);
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
