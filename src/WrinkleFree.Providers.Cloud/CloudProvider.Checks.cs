using System.Collections.Concurrent;
using System.Globalization;
using WrinkleFree.Service.Providers;
using WrinkleFree.Service.Spec;

namespace WrinkleFree.Providers.Cloud;

public sealed partial class CloudProvider : IProviderCapacity
{
    private readonly ConcurrentDictionary<string, TierCapacity> _capacity = new(StringComparer.Ordinal);

    /// <inheritdoc />
    /// <remarks>
    /// Reads the tier's settings at <c>wf up</c>, so a missing zone list, an unknown key or a setting of the other cloud is
    /// an error naming it before anything launches (not a failed launch later). No cloud call is made: what an account may
    /// start is known only by starting it, and a capacity or quota refusal then moves on to the next zone. The room is the
    /// tier's written capacity.
    /// </remarks>
    public Task<TierCapacity> CheckTierAsync(TierSpec tier, ResourcesSpec resources, string keyPath, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tier);
        var settings = CloudTierSettings.Parse(tier.Settings, tier.Spot, keyPath, resources);
        var zones = string.Join(", ", settings.Zones.Select(z => z.Zone));
        var type = settings.InstanceTypeReason == "as written" ? settings.InstanceType : settings.InstanceTypeReason;
        var room = new TierCapacity(tier.Capacity, tier.IsUnlimited
            ? $"{settings.Infra} {type}{(settings.Spot ? " spot" : "")} in {zones}, no capacity written: unlimited"
            : $"{settings.Infra} {type}{(settings.Spot ? " spot" : "")} in {zones}, {tier.Capacity.ToString(CultureInfo.InvariantCulture)} replicas as written");
        _capacity[tier.Name] = room;
        return Task.FromResult(room);
    }

    /// <inheritdoc />
    public TierCapacity? KnownCapacity(TierSpec tier, ResourcesSpec resources)
    {
        ArgumentNullException.ThrowIfNull(tier);
        return _capacity.GetValueOrDefault(tier.Name);
    }
}
