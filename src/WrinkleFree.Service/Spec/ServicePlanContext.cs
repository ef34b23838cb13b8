using WrinkleFree.Service.Providers;

namespace WrinkleFree.Service.Spec;

/// <summary>What a <see cref="ServicePlan"/> is checked against, besides the spec: where it runs and how strictly.</summary>
public sealed record ServicePlanContext
{
    /// <summary>Turns the checks a user may overrule (resources, use_spot, providers, keys not acted on) into warnings.</summary>
    public bool Force { get; init; }

    /// <summary>The model a <c>wf replica</c> gets as MODEL_PATH when the spec's envs have none (bitnet backend).</summary>
    public string? DefaultModelPath { get; init; }

    /// <summary>The spec file's folder: a relative <c>workdir:</c> is resolved against it; null when the spec has no file.</summary>
    public string? SpecDirectory { get; init; }

    /// <summary>The machine of the local provider's tiers (this one, unless a test says otherwise).</summary>
    public MachineShape Machine { get; init; } = MachineShape.Current;

    /// <summary>The clock the endpoint's TLS certificate must be valid by.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>
    /// Room that providers found for tiers (<see cref="IProviderCapacity"/>: an SSH pool's answering nodes), by tier name;
    /// such a tier holds the smaller of this and its written capacity.
    /// </summary>
    public IReadOnlyDictionary<string, TierCapacity> ProviderCapacities { get; init; } = new Dictionary<string, TierCapacity>();

    /// <summary>The providers that can launch replicas here (the daemon's registry).</summary>
    public IReadOnlyCollection<string> Providers { get; init; } = ReplicaProviderRegistry.Defaults.Select(f => f.Name).ToArray();
}
