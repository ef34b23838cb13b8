using WrinkleFree.Providers.Ssh.Pools;

namespace WrinkleFree.Providers.Ssh.Nodes;

/// <summary>How <see cref="PoolSetup"/> works through a pool.</summary>
public sealed record PoolSetupOptions
{
    /// <summary>Nodes worked on at once.</summary>
    public int MaxParallel { get; init; } = 8;

    /// <summary>How long <c>wf ssh down</c> lets each replica drain before killing it.</summary>
    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The install root of a node when it is not the login's default (null: the default).</summary>
    public Func<SshNode, string?>? RootFor { get; init; }
}
