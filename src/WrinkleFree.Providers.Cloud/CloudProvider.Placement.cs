using System.Globalization;
using WrinkleFree.Providers.Cloud.Aws;
using WrinkleFree.Providers.Cloud.Compute;
using WrinkleFree.Service.Providers;

namespace WrinkleFree.Providers.Cloud;

public sealed partial class CloudProvider
{
    /// <summary>
    /// The tier's zones in the order the next launch tries them: as written, or, after a preemption in zone Z, from the
    /// zone after Z (EAGER_NEXT_REGION: Z last) or from Z itself (FAILOVER). The hint is used by one launch.
    /// </summary>
    internal IReadOnlyList<CloudZone> ZoneOrder(CloudTierSettings settings, string service, string tier)
    {
        var zones = settings.Zones;
        if (!_preemptedZone.TryRemove((service, tier), out var preempted))
            return zones;
        var at = zones.ToList().FindIndex(z => z.Zone == preempted);
        if (at < 0)
            return zones;
        return settings.Recovery == CloudRecovery.Failover
            ? [zones[at], .. zones.Where((_, i) => i != at)]
            : [.. zones.Skip(at + 1), .. zones.Take(at + 1)];
    }

    private void NotePreemption(ReplicaHandle handle, CloudInstanceRef where, string reason)
    {
        if (!_tiers.TryGetValue((handle.Service, handle.ReplicaId), out var tier))
            return;
        // Only the first sighting counts: the controller asks again while it replaces the replica.
        if (!_preemptionsSeen.TryAdd(where.Id, 0))
            return;
        _preemptedZone[(handle.Service, tier)] = where.Zone;
        var next = _settingsOf.TryGetValue((handle.Service, tier), out var settings)
            ? (settings.Recovery == CloudRecovery.Failover ? where.Zone : NextZone(settings, where.Zone))
            : "(unknown)";
        Log.Preempted(_logger, where.Id, where.Zone, reason, tier, next);
    }

    private static string NextZone(CloudTierSettings settings, string zone)
    {
        var zones = settings.Zones;
        var at = zones.ToList().FindIndex(z => z.Zone == zone);
        return zones[(at + 1) % zones.Count].Zone;
    }

    private ICloudCompute ComputeFor(CloudTierSettings settings) => ComputeFor(settings.Infra, settings.Endpoint, settings.Project);

    private ICloudCompute ComputeFor(string infra, Uri? endpoint, string? project) => infra switch
    {
        "aws" => _aws.GetOrAdd((endpoint ?? _options.AwsEndpoint)?.ToString() ?? "", _ => new AwsCompute(new AwsComputeOptions { Endpoint = endpoint ?? _options.AwsEndpoint, Credentials = _options.AwsCredentials })),
        "gcp" => _options.GcpCompute ?? _gcp.GetOrAdd((project ?? throw new InvalidOperationException("cloud: a gcp replica's handle names no project"), endpoint?.ToString() ?? ""),
            key => new DeferredCompute("gcp", async ct => await Gcp.GceCompute.CreateAsync(key.Project, key.Endpoint.Length == 0 ? null : key.Endpoint,
                Environment.GetEnvironmentVariable, _gcpHttp, _context.Time, _logger, ct).ConfigureAwait(false))),
        _ => throw new InvalidOperationException($"cloud: unknown infra '{infra}'"),
    };

    private static readonly string[] FileVariables = ["WF_API_KEY_FILE"];

    /// <summary>The instance's name (GCE's instance name, EC2's Name tag) and what its TLS certificate names.</summary>
    internal static string InstanceName(ReplicaLaunchRequest request) => CloudTags.Label($"wf-{request.Service}-{request.ReplicaId.ToString(CultureInfo.InvariantCulture)}");

    private (ICloudCompute Compute, CloudInstanceRef Where) Locate(ReplicaHandle handle)
    {
        if (handle.InstanceId is null || handle.Region is null || handle.Zone is null)
            throw new ArgumentException($"replica {handle.ReplicaId} of {handle.Service}: the handle names no cloud instance (instance id, region and zone)", nameof(handle));
        var settings = _tiers.TryGetValue((handle.Service, handle.ReplicaId), out var tier) ? _settingsOf.GetValueOrDefault((handle.Service, tier)) : null;
        // A handle from before a restart, whose tier has not launched since: the provider's own endpoint.
        var compute = settings is not null ? ComputeFor(settings) : ComputeFor(handle.Infra ?? "aws", handle.ApiEndpoint is { } api ? new Uri(api) : null, handle.Project);
        return (compute, new CloudInstanceRef(handle.InstanceId, handle.Region, handle.Zone));
    }

    private ReplicaHandle Remember(ReplicaLaunchRequest request, CloudInstance instance, CloudTierSettings settings)
    {
        _settingsOf[(request.Service, request.Tier)] = settings;
        var endpoint = string.Create(CultureInfo.InvariantCulture, $"{(request.Tls is null ? "http" : "https")}://{instance.PrivateIp}:{settings.Port}");
        var handle = new ReplicaHandle
        {
            Provider = Name,
            Service = request.Service,
            ReplicaId = request.ReplicaId,
            EndpointUrl = endpoint,
            InstanceId = instance.Ref.Id,
            Infra = settings.Infra,
            Project = settings.Project,
            ApiEndpoint = settings.Endpoint?.ToString(),
            Region = instance.Ref.Region,
            Zone = instance.Ref.Zone,
        };
        if (!_launched.TryAdd((request.Service, request.ReplicaId), handle))
            return _launched[(request.Service, request.ReplicaId)];
        Log.Launched(_logger, request.Service, request.ReplicaId, settings.Infra, instance.Ref.Id, instance.Ref.Zone, settings.Spot ? " (spot)" : "", endpoint);
        return handle;
    }

    private async Task<CloudInstance> WithAddressAsync(ICloudCompute compute, CloudInstance instance, CancellationToken cancellationToken)
    {
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bound.CancelAfter(_options.AddressWait);
        try
        {
            while (instance.PrivateIp is null)
            {
                await Task.Delay(_options.PollInterval, _context.Time, bound.Token).ConfigureAwait(false);
                instance = await compute.DescribeAsync(instance.Ref, bound.Token).ConfigureAwait(false)
                    ?? throw new CloudApiException($"cloud: instance {instance.Ref.Id} in {instance.Ref.Zone} vanished before it had an address");
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"cloud: instance {instance.Ref.Id} in {instance.Ref.Zone} had no private address {_options.AddressWait.TotalSeconds:0} s after its launch");
        }

        return instance;
    }

    private static Dictionary<string, string> EnvironmentOf(ReplicaLaunchRequest request, CloudTierSettings settings, IEnumerable<string> files)
    {
        var envs = new Dictionary<string, string>(request.Envs, StringComparer.Ordinal);
        foreach (var local in HostOnlyVariables)
            envs.Remove(local);
        foreach (var variable in files)
            envs[variable] = ReplicaUserData.FilePath(variable);
        envs["PORT"] = settings.Port.ToString(CultureInfo.InvariantCulture);
        envs["HOST"] = "0.0.0.0";
        envs["WF_SERVICE"] = request.Service;
        envs["WF_REPLICA_ID"] = request.ReplicaId.ToString(CultureInfo.InvariantCulture);
        return envs;
    }

    // The replica key file names a file on the daemon's machine: its content travels in the user-data instead (readable
    // on the instance through its metadata service and by principals allowed ec2:DescribeInstanceAttribute).
    private static async Task<Dictionary<string, string>> FilesOfAsync(ReplicaLaunchRequest request, CancellationToken cancellationToken)
    {
        var files = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var variable in FileVariables)
        {
            if (request.Envs.GetValueOrDefault(variable) is { } path && Path.IsPathRooted(path) && File.Exists(path))
                files[variable] = await File.ReadAllTextAsync(path, cancellationToken).ConfigureAwait(false);
        }

        return files;
    }
}
