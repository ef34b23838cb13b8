using WrinkleFree.Service.Spec;

namespace WrinkleFree.Service.Providers;

/// <summary>
/// A provider whose room for a tier comes from what it finds rather than from a number the user keeps in sync: an SSH
/// pool holds as many replicas as its answering nodes fit by the spec's cpus and memory. The tier's written
/// <c>capacity</c>, when given, stays an upper bound.
/// </summary>
public interface IProviderCapacity
{
    /// <summary>
    /// Checks the tier's settings against what the provider can reach (reaching it: nodes, APIs) and returns its room
    /// now. Throws <see cref="ServiceSpecException"/> at <paramref name="keyPath"/> (e.g. <c>tiers[0].settings.pool</c>)
    /// naming what is wrong: an unknown pool, an unreadable key, a host that does not answer.
    /// </summary>
    Task<TierCapacity> CheckTierAsync(TierSpec tier, ResourcesSpec resources, string keyPath, CancellationToken cancellationToken);

    /// <summary>The room last seen for the tier, without any I/O (the controller asks every tick); null before the first look.</summary>
    TierCapacity? KnownCapacity(TierSpec tier, ResourcesSpec resources);
}
