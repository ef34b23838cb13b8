using System.Text.Json;
using WrinkleFree.Platform.Files;

namespace WrinkleFree.Providers.Ssh;

/// <summary>
/// The stops owed to nodes that were away, kept in a file (WF_HOME/ssh/pending-stops.json) so that a daemon restarted
/// before the node returns still stops the replicas it had replaced, instead of leaving them serving twice.
/// </summary>
internal sealed class PendingStops(string path)
{
    private readonly Lock _lock = new();
    private List<PendingStop>? _items;

    public void Add(PendingStop stop)
    {
        lock (_lock)
        {
            var items = Load();
            if (!items.Contains(stop))
            {
                items.Add(stop);
                Save(items);
            }
        }
    }

    public IReadOnlyList<PendingStop> For(string nodeKey)
    {
        lock (_lock)
            return [.. Load().Where(s => s.NodeKey == nodeKey)];
    }

    public void Remove(PendingStop stop)
    {
        lock (_lock)
        {
            var items = Load();
            if (items.Remove(stop))
                Save(items);
        }
    }

    private List<PendingStop> Load()
    {
        if (_items is not null)
            return _items;
        try
        {
            _items = File.Exists(path) ? JsonSerializer.Deserialize(File.ReadAllText(path), SshJsonContext.Default.ListPendingStop) ?? [] : [];
        }
        catch (JsonException)
        {
            // A damaged file loses only deferred stops; they are retried by hand with `wf ssh check`.
            _items = [];
        }

        return _items;
    }

    private void Save(List<PendingStop> items)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        AtomicFile.WriteAllText(path, JsonSerializer.Serialize(items, SshJsonContext.Default.ListPendingStop),
            OperatingSystem.IsWindows() ? null : UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }
}
