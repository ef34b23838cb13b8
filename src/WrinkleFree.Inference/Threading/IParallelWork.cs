namespace WrinkleFree.Inference.Threading;

/// <summary>Work that <see cref="WorkerPool"/> splits into ranges; each call handles the half-open item range [start, end).</summary>
public interface IParallelWork
{
    /// <summary>Processes items <paramref name="start"/> (inclusive) to <paramref name="end"/> (exclusive).</summary>
    void Execute(int start, int end);
}
