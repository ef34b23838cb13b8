namespace WrinkleFree.Testing.Kubernetes;

/// <summary>A container's output lines, appended as they come, readable from any line on while it grows.</summary>
public sealed class PodLog
{
    private readonly List<string> _lines = [];
    private TaskCompletionSource _grew = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _closed;

    public void Append(string line)
    {
        TaskCompletionSource grew;
        lock (_lines)
        {
            _lines.Add(line);
            grew = _grew;
            _grew = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        grew.TrySetResult();
    }

    /// <summary>No more lines will come (the container ended).</summary>
    public void Close()
    {
        TaskCompletionSource grew;
        lock (_lines)
        {
            _closed = true;
            grew = _grew;
        }

        grew.TrySetResult();
    }

    /// <summary>Lines from index <paramref name="from"/> on, whether more may come, and a task that completes when they do.</summary>
    public (IReadOnlyList<string> Lines, bool Closed, Task Grew) Read(int from)
    {
        lock (_lines)
            return (_lines.Skip(from).ToList(), _closed, _grew.Task);
    }

    public int Count
    {
        get
        {
            lock (_lines)
                return _lines.Count;
        }
    }
}
