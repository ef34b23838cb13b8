using System.Text.Json.Serialization;
using System.Text.RegularExpressions;

namespace WrinkleFree.Service.Spec;

/// <summary>
/// What a service spec will do here, checked before anything starts: the tiers with their capacities after the provider,
/// spot and resource checks, the autoscaling bounds, the readiness probe, and the exact command every replica runs.
/// <c>wf validate</c> and <c>wf up --dry-run</c> print it; the daemon makes the same checks when it creates a service.
/// </summary>
public sealed partial record ServicePlan
{
    /// <summary>The service name when neither the command line, the spec nor the spec's file name gives one.</summary>
    public const string DefaultName = "wrinklefree";

    /// <summary>The service name.</summary>
    public required string Name { get; init; }

    /// <summary>The spec, with <c>workdir:</c> made absolute: what the daemon should be sent.</summary>
    [JsonIgnore]
    public required ServiceSpec Spec { get; init; }

    /// <summary>Every tier in the spec's order.</summary>
    public required IReadOnlyList<TierPlan> Tiers { get; init; }

    /// <summary>Replicas kept at all times.</summary>
    public required int MinReplicas { get; init; }

    /// <summary>Most replicas the autoscaler asks for.</summary>
    public required int MaxReplicas { get; init; }

    /// <summary>What the autoscaler does, in a sentence.</summary>
    public required string Autoscaling { get; init; }

    /// <summary>What happens to a replica that fails or is preempted, in a sentence.</summary>
    public required string Recovery { get; init; }

    /// <summary>How replicas are probed, in a sentence.</summary>
    public required string ReadinessProbe { get; init; }

    /// <summary>What every replica runs.</summary>
    public required ReplicaCommandPlan Replica { get; init; }

    /// <summary>What --force let through, what the plan changed, and what looks unintended.</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];

    /// <summary>
    /// Parses <paramref name="yaml"/> and plans it; every error, the plan's own included, is a
    /// <see cref="ServiceSpecException"/> naming the key path, line and column.
    /// </summary>
    /// <param name="name">The service name given on the command line, if any.</param>
    public static ServicePlan Parse(string yaml, string? sourceName, ServicePlanContext context, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        ServicePlan? plan = null;
        ServiceSpecParser.Parse(yaml, sourceName, (spec, asWritten) => plan = Create(spec, context, NameFor(name, spec, sourceName), asWritten));
        return plan!;
    }

    /// <summary>Plans a validated spec; throws <see cref="ServiceSpecException"/> (key path, no position) when it cannot run here.</summary>
    public static ServicePlan Create(ServiceSpec spec, ServicePlanContext context, string? name = null) => Create(spec, context, name, null);

    private static ServicePlan Create(ServiceSpec spec, ServicePlanContext context, string? name, Func<string, string>? asWritten)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(context);
        var checks = new Checks(context.Force, asWritten);
        spec = WithAbsoluteWorkdir(spec, context.SpecDirectory);
        spec = WithCheckedTls(spec, context, checks);
        var tiers = PlanTiers(spec, t => context.Providers.Contains(ProviderName(t)), t => context.ProviderCapacities.GetValueOrDefault(t.Name), context.Machine, checks, strict: true);
        CheckPorts(spec);
        CheckKeysActedOn(spec, checks);
        var replica = ReplicaFor(spec, context.Machine, context.DefaultModelPath, checks);
        var policy = spec.Service.ReplicaPolicy;
        return new ServicePlan
        {
            Name = name ?? spec.Name ?? DefaultName,
            Spec = spec,
            Tiers = tiers,
            MinReplicas = policy.MinReplicas,
            MaxReplicas = Math.Max(1, policy.EffectiveMaxReplicas),
            Autoscaling = DescribeAutoscaling(spec.Service),
            Recovery = DescribeRecovery(spec.Resources.JobRecovery),
            ReadinessProbe = DescribeProbe(spec.Service.ReadinessProbe),
            Replica = replica,
            Warnings = checks.Warnings,
        };
    }

    /// <summary>
    /// The service name: <paramref name="given"/> (--name), else the spec's <c>name:</c>, else the spec file's name without
    /// its extension when that is a valid name (deploy/service-dev.yaml is service-dev), else <see cref="DefaultName"/>.
    /// </summary>
    public static string NameFor(string? given, ServiceSpec spec, string? sourceName)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if ((given ?? spec.Name) is { } name)
        {
            return name;
        }

        var stem = sourceName is null ? null : Path.GetFileNameWithoutExtension(sourceName);
        return stem is { Length: > 0 and <= 63 } && FileNamePattern().IsMatch(stem) ? stem : DefaultName;
    }

    /// <summary>The provider name a tier's <c>provider:</c> means (<c>local</c>, <c>ssh</c>, <c>kubernetes</c>, <c>cloud</c>).</summary>
    public static string ProviderName(TierSpec tier)
    {
        ArgumentNullException.ThrowIfNull(tier);
        return tier.Provider.ToString().ToLowerInvariant();
    }

    private static ServiceSpec WithAbsoluteWorkdir(ServiceSpec spec, string? specDirectory)
    {
        if (spec.Workdir is not { } workdir)
        {
            return spec;
        }

        if (!Path.IsPathRooted(workdir))
        {
            if (specDirectory is null)
            {
                throw new ServiceSpecException("workdir", $"'{workdir}' must be an absolute path here (`wf up SPEC` resolves a relative one against the spec's folder)");
            }

            workdir = Path.GetFullPath(Path.Combine(specDirectory, workdir));
        }

        return Directory.Exists(workdir)
            ? spec with { Workdir = workdir }
            : throw new ServiceSpecException("workdir", $"folder '{workdir}' does not exist");
    }

    /// <summary>A replica listens on one port, so <c>resources.ports</c> may name one; it is the replica's port hint.</summary>
    private static void CheckPorts(ServiceSpec spec)
    {
        var ports = spec.Resources.Ports;
        if (ports.Count > 1 || (ports.Count == 1 && ports[0].Start != ports[0].End))
        {
            throw new ServiceSpecException("resources.ports",
                $"a replica serves on one port, got '{string.Join(", ", ports)}'; give one port (each replica asks its provider for it, and gets a free one when it is taken)");
        }
    }

    // The service-name rule (ServiceSpec.Name), for a name taken from the spec file's name.
    [GeneratedRegex("^[A-Za-z]([-_.A-Za-z0-9]*[A-Za-z0-9])?$")]
    private static partial Regex FileNamePattern();

    /// <summary>The checks --force may overrule: without it the first one throws, with it each becomes a warning.</summary>
    /// <param name="asWritten">The key path where the YAML wrote a key (see <see cref="ServiceSpecParser"/>), for warnings.</param>
    private sealed class Checks(bool force, Func<string, string>? asWritten = null)
    {
        public List<string> Warnings { get; } = [];

        /// <summary>Throws "PATH: PROBLEM; HINT", or with --force warns "PATH: PROBLEM; OUTCOME (--force)".</summary>
        public void Refuse(string keyPath, string problem, string hint, string outcome)
        {
            if (!force)
            {
                throw new ServiceSpecException(keyPath, $"{problem}; {hint}");
            }

            Warn(keyPath, $"{problem}; {outcome} (--force)");
        }

        public void Warn(string keyPath, string message) => Warnings.Add($"{(asWritten ?? (path => path))(keyPath)}: {message}");
    }
}
