using WrinkleFree.Service.Providers;
using WrinkleFree.Service.Spec;

namespace WrinkleFree.Service.Controller;

/// <summary>The launch request of one replica: what <see cref="ServicePlan"/> says the replica runs, on its tier.</summary>
internal static class ReplicaLaunches
{
    /// <summary>
    /// Replica <paramref name="replicaId"/> of <paramref name="service"/> on <paramref name="tier"/>: the plan's command,
    /// setup and folder, with the controller's extra environment under the spec's envs.
    /// </summary>
    /// <param name="issuer">The service's CA: replicas on other machines, and local ones with <c>service.replica_tls</c>, serve mutual TLS with a certificate from it.</param>
    public static ReplicaLaunchRequest Create(string service, int replicaId, int version, ServiceSpec spec, TierSpec tier, ServiceControllerOptions options, Tls.IReplicaCertificateIssuer? issuer = null)
    {
        // Only the local tiers' machine is known here; elsewhere the provider's own machine bounds the threads.
        var replica = ServicePlan.ReplicaFor(spec, tier.Provider == TierProvider.Local ? options.Machine : null, options.DefaultModelPath);
        var mutualTls = tier.Provider != TierProvider.Local || spec.Service.ReplicaTls;
        if (mutualTls && issuer is null)
        {
            // Never a plain-HTTP replica where the spec (or another machine) needs mutual TLS.
            throw new InvalidOperationException(
                $"replica {replicaId} of {service} needs mutual TLS ({(spec.Service.ReplicaTls ? "service.replica_tls" : $"tier '{tier.Name}' is on another machine")}) but this controller has no certificate authority (PkiFolder)");
        }

        var envs = new Dictionary<string, string>(options.ExtraEnvironment, StringComparer.Ordinal);
        foreach (var (key, value) in replica.Envs)
            envs[key] = value;
        return new ReplicaLaunchRequest
        {
            Service = service,
            ReplicaId = replicaId,
            Version = version,
            Tier = tier.Name,
            Spot = tier.Spot,
            Run = replica.Run,
            Command = replica.Argv?[0],
            Arguments = replica.Argv is { } argv ? [.. argv.Skip(1)] : [],
            Setup = replica.Setup,
            Envs = envs,
            PortHint = replica.PortHint,
            WorkingDirectory = replica.Workdir ?? options.WorkingDirectory,
            Tls = mutualTls ? issuer : null,
            TierSettings = tier.Settings,
            Resources = spec.Resources,
        };
    }
}
