using WrinkleFree.Service.Providers;
using WrinkleFree.Service.Spec;

namespace WrinkleFree.Service.Daemon;

/// <summary>The checks a new service passes before the daemon stores it: the spec's own, then its plan's (as `wf validate`).</summary>
internal static class ServiceCreation
{
    /// <summary>
    /// The spec of <paramref name="request"/>; throws <see cref="ServiceSpecException"/> naming the key, line and column.
    /// Tiers whose provider finds its own room (<see cref="IProviderCapacity"/>: an SSH pool) are checked against it
    /// first: an unknown pool or a host that does not answer is an error here, and the plan uses the room found.
    /// </summary>
    public static async Task<ServiceSpec> CheckAsync(
        CreateServiceRequest request, DaemonOptions options, IReadOnlyDictionary<string, IReplicaProvider> providers, CancellationToken cancellationToken)
    {
        var context = new ServicePlanContext
        {
            Force = request.Force,
            DefaultModelPath = options.DefaultModelPath,
            Providers = [.. providers.Keys],
        };
        var plan = ServicePlan.Parse(request.SpecYaml, request.SourceName, context with { Force = true });
        var found = new Dictionary<string, TierCapacity>(StringComparer.Ordinal);
        for (var i = 0; i < plan.Spec.Tiers.Count; i++)
        {
            var tier = plan.Spec.Tiers[i];
            if (providers.GetValueOrDefault(ServicePlan.ProviderName(tier)) is IProviderCapacity provider)
                found[tier.Name] = await provider.CheckTierAsync(tier, plan.Spec.Resources, $"tiers[{i}].settings", cancellationToken).ConfigureAwait(false);
        }

        return ServicePlan.Parse(request.SpecYaml, request.SourceName, context with { ProviderCapacities = found }).Spec;
    }
}
