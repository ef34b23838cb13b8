using System.Collections.Concurrent;
using WrinkleFree.Providers.Ssh.Nodes;
using WrinkleFree.Providers.Ssh.Pools;
using WrinkleFree.Providers.Ssh.Sessions;
using WrinkleFree.Service.Spec;

namespace WrinkleFree.Providers.Ssh;

/// <summary>
/// One node of a pool as the provider sees it: its connection (made again when it drops), what it has (facts read at
/// each connect), whether it answers, and the files already installed there.
/// </summary>
internal sealed class NodeSlot(string key, string pool, SshNode node, int? replicasPerNode, string? root) : IAsyncDisposable
{
    private readonly SemaphoreSlim _connect = new(1, 1);
    private volatile bool _down = true;

    public string Key { get; } = key;

    public string Pool { get; } = pool;

    public SshNode Node { get; } = node;

    public ISshSession? Session { get; private set; }

    public NodeFacts? Facts { get; private set; }

    public string? LastError { get; private set; }

    /// <summary>Files known to be on the node, as "remote@sha256".</summary>
    public ConcurrentDictionary<string, bool> Installed { get; } = new(StringComparer.Ordinal);

    /// <summary>No connect was tried yet (a provider that just started, a handle from before a restart).</summary>
    public bool NeverTried => Facts is null && LastError is null;

    /// <summary>Connected, facts read, and no command has failed since.</summary>
    public bool IsUp => !_down && Session is { IsConnected: true } && Facts is not null;

    /// <summary>The open session, connecting (and reading the node's facts) when there is none or it dropped.</summary>
    public async Task<ISshSession> ConnectAsync(ISshConnector connector, CancellationToken cancellationToken)
    {
        await _connect.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (IsUp)
                return Session!;
            if (Session is { } old)
            {
                Session = null;
                await old.DisposeAsync().ConfigureAwait(false);
            }

            try
            {
                var session = await connector.ConnectAsync(Node, cancellationToken).ConfigureAwait(false);
                Facts = await NodeProbe.ReadAsync(session, root, cancellationToken).ConfigureAwait(false);
                Session = session;
                LastError = null;
                _down = false;
                return session;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                MarkDown(Describe(e));
                throw;
            }
        }
        finally
        {
            _connect.Release();
        }
    }

    /// <summary>Connects when it can; false (with <see cref="LastError"/>) when the node does not answer.</summary>
    public async Task<bool> TryConnectAsync(ISshConnector connector, CancellationToken cancellationToken)
    {
        try
        {
            await ConnectAsync(connector, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>A command failed or the link dropped: the node counts as away until a connect succeeds again.</summary>
    public void MarkDown(string why)
    {
        _down = true;
        LastError = why;
    }

    /// <summary>
    /// Replicas of <paramref name="resources"/> the node holds: the pool's <c>replicas_per_node</c> when given, else as many as
    /// its cores and memory fit (one when the spec asks for neither: a replica then uses the whole node).
    /// </summary>
    public int Fit(ResourcesSpec resources)
    {
        if (replicasPerNode is { } fixedCount)
            return fixedCount;
        if (Facts is null)
            return 0;
        var fit = ResourceFit.Replicas(resources, new MachineShape(Facts.Cores, Facts.MemoryGiB));
        return fit == int.MaxValue ? 1 : fit;
    }

    /// <summary>An exception as a reason: its message, or its type when it has none.</summary>
    public static string Describe(Exception e) => string.IsNullOrWhiteSpace(e.Message) ? e.GetType().Name : e.Message;

    public async ValueTask DisposeAsync()
    {
        if (Session is { } session)
            await session.DisposeAsync().ConfigureAwait(false);
        _connect.Dispose();
    }
}
