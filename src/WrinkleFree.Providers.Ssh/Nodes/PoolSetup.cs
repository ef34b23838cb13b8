using WrinkleFree.Providers.Ssh.Pools;
using WrinkleFree.Providers.Ssh.Sessions;

namespace WrinkleFree.Providers.Ssh.Nodes;

/// <summary>
/// The work behind <c>wf ssh up|check|down</c> over a pool's nodes, in parallel (bounded): one node failing does not stop
/// the others, and every result names its node.
/// </summary>
public sealed class PoolSetup
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromMinutes(2);
    private readonly ISshConnector _connector;
    private readonly TimeProvider _time;
    private readonly PoolSetupOptions _options;

    /// <summary>Setup over <paramref name="connector"/>'s sessions.</summary>
    public PoolSetup(ISshConnector connector, TimeProvider time, PoolSetupOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(connector);
        ArgumentNullException.ThrowIfNull(time);
        _connector = connector;
        _time = time;
        _options = options ?? new PoolSetupOptions();
    }

    /// <summary>
    /// Connects to each node, reads its facts and installs the serving <c>wf</c> (<paramref name="localWfPath"/>, as
    /// <c>bin/wf</c>) and the models (as <c>models/&lt;sha256&gt;.gguf</c>); a file already there is not sent again.
    /// </summary>
    public async Task<IReadOnlyList<NodeUpResult>> UpAsync(
        IReadOnlyList<SshNode> nodes,
        string localWfPath,
        IReadOnlyList<string> modelPaths,
        IProgress<(SshNode Node, string File, long Done, long Total)>? progress,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        ArgumentNullException.ThrowIfNull(modelPaths);
        var wfSha = await NodeInstaller.Sha256Async(localWfPath, cancellationToken).ConfigureAwait(false);
        var models = new List<(string Path, string Sha)>();
        foreach (var model in modelPaths)
        {
            models.Add((model, await NodeInstaller.Sha256Async(model, cancellationToken).ConfigureAwait(false)));
        }

        return await ForEachNodeAsync(nodes, async (session, node, ct) =>
        {
            var facts = await NodeProbe.ReadAsync(session, _options.RootFor?.Invoke(node), ct).ConfigureAwait(false);
            var layout = facts.Layout;
            IProgress<(string File, long Done, long Total)>? fileProgress = progress is null ? null : new Relay(node, progress);
            var files = new List<InstallResult>
            {
                await NodeInstaller.InstallAsync(session, new InstallItem(localWfPath, layout.Wf, Executable: true), wfSha, fileProgress, ct).ConfigureAwait(false),
            };
            foreach (var (path, sha) in models)
            {
                files.Add(await NodeInstaller.InstallAsync(session, new InstallItem(path, layout.ModelPath(sha)), sha, fileProgress, ct).ConfigureAwait(false));
            }

            var mkdir = await session.RunAsync($"mkdir -p {ShellQuote.Quote(layout.Replicas)}", CommandTimeout, ct).ConfigureAwait(false);
            if (!mkdir.Succeeded)
            {
                throw new SshNodeException(node, $"cannot create {layout.Replicas}: {NodeProbe.Trim(mkdir.Stderr)}");
            }

            // Read again so the result shows the wf now installed.
            return new NodeUpResult(node, await NodeProbe.ReadAsync(session, _options.RootFor?.Invoke(node), ct).ConfigureAwait(false), files, null);
        }, (node, error) => new NodeUpResult(node, null, [], error), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Reads each node: reachable (or the error), its facts, and its capacity for replicas asking <paramref name="cpus"/>
    /// CPUs and <paramref name="memoryGiB"/> GiB (or <paramref name="replicasPerNode"/>), less ours running.
    /// </summary>
    public Task<IReadOnlyList<NodeCheckResult>> CheckAsync(
        IReadOnlyList<SshNode> nodes, double? cpus, double? memoryGiB, int? replicasPerNode, CancellationToken cancellationToken) =>
        ForEachNodeAsync(nodes, async (session, node, ct) =>
        {
            var facts = await NodeProbe.ReadAsync(session, _options.RootFor?.Invoke(node), ct).ConfigureAwait(false);
            return new NodeCheckResult(node, facts,
                NodeCapacity.Replicas(facts, cpus, memoryGiB, replicasPerNode), NodeCapacity.Free(facts, cpus, memoryGiB, replicasPerNode), null);
        }, (node, error) => new NodeCheckResult(node, null, null, null, error), cancellationToken);

    /// <summary>Stops our replicas on each node (drained) and removes what <see cref="UpAsync"/> installed.</summary>
    public Task<IReadOnlyList<NodeDownResult>> DownAsync(IReadOnlyList<SshNode> nodes, CancellationToken cancellationToken) =>
        ForEachNodeAsync(nodes, async (session, node, ct) =>
        {
            var facts = await NodeProbe.ReadAsync(session, _options.RootFor?.Invoke(node), ct).ConfigureAwait(false);
            var stopped = await NodeRuntime.For(facts, _time).RemoveAllAsync(session, _options.DrainTimeout, ct).ConfigureAwait(false);
            var layout = facts.Layout;
            var remove = await session.RunAsync(
                $"rm -rf {ShellQuote.Quote(layout.Root + "/bin")} {ShellQuote.Quote(layout.Models)} {ShellQuote.Quote(layout.Replicas)} && {{ rmdir {ShellQuote.Quote(layout.Root)} 2>/dev/null; true; }}",
                CommandTimeout, ct).ConfigureAwait(false);
            return remove.Succeeded
                ? new NodeDownResult(node, stopped, null)
                : new NodeDownResult(node, stopped, $"{node.Name}: could not remove {layout.Root}: {NodeProbe.Trim(remove.Stderr)}; remove it by hand");
        }, (node, error) => new NodeDownResult(node, [], error), cancellationToken);

    private async Task<IReadOnlyList<T>> ForEachNodeAsync<T>(
        IReadOnlyList<SshNode> nodes,
        Func<ISshSession, SshNode, CancellationToken, Task<T>> work,
        Func<SshNode, string, T> failed,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        var results = new T[nodes.Count];
        await Parallel.ForEachAsync(
            Enumerable.Range(0, nodes.Count),
            new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, _options.MaxParallel), CancellationToken = cancellationToken },
            async (i, ct) =>
            {
                var node = nodes[i];
                try
                {
                    var session = await _connector.ConnectAsync(node, ct).ConfigureAwait(false);
                    await using (session.ConfigureAwait(false))
                    {
                        results[i] = await work(session, node, ct).ConfigureAwait(false);
                    }
                }
                catch (OperationCanceledException) when (ct.IsCancellationRequested)
                {
                    throw;
                }
                catch (SshNodeException e)
                {
                    results[i] = failed(node, e.Message);
                }
#pragma warning disable CA1031 // one node's failure, whatever it is, is that node's result and must not stop the others
                catch (Exception e)
#pragma warning restore CA1031
                {
                    results[i] = failed(node, e.Message.StartsWith(node.Name, StringComparison.Ordinal) ? e.Message : $"{node.Name}: {e.Message}");
                }
            }).ConfigureAwait(false);
        return results;
    }

    private sealed class Relay(SshNode node, IProgress<(SshNode Node, string File, long Done, long Total)> target) : IProgress<(string File, long Done, long Total)>
    {
        public void Report((string File, long Done, long Total) value) => target.Report((node, value.File, value.Done, value.Total));
    }
}
