using System.Collections.Concurrent;
using WrinkleFree.Providers.Ssh.Nodes;

namespace WrinkleFree.Providers.Ssh;

/// <summary>SHA-256 of local files, computed once per path, size and modification time (a model is gigabytes).</summary>
internal sealed class FileHashes
{
    private readonly ConcurrentDictionary<(string Path, long Length, DateTime Written), Task<string>> _hashes = new();

    public Task<string> GetAsync(string path, CancellationToken cancellationToken)
    {
        var info = new FileInfo(path);
        return _hashes.GetOrAdd((info.FullName, info.Length, info.LastWriteTimeUtc), _ => NodeInstaller.Sha256Async(path, cancellationToken));
    }
}
