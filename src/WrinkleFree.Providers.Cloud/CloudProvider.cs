using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using WrinkleFree.Providers.Cloud.Aws;
using WrinkleFree.Providers.Cloud.Compute;
using WrinkleFree.Service.Providers;

namespace WrinkleFree.Providers.Cloud;

/// <summary>
/// Replicas as cloud instances (<c>provider: cloud</c>): one spot or on-demand instance per replica, booted with
/// user-data that starts <c>wf replica</c> under systemd, tagged with service, replica, version and tier. A launch tries
/// the tier's zones in order and moves on at a capacity error (a quota error skips the region); after a preemption the
/// replacement starts from the zone the recovery policy names. Status comes from the instance's state and state reason.
/// </summary>
public sealed partial class CloudProvider : IReplicaProvider, IDisposable
{
    // The daemon's PATH (its wf shim) and WF_HOME name folders on its own machine, not on the instance.
    private static readonly string[] HostOnlyVariables = ["PATH", "WF_HOME"];

    private readonly ReplicaProviderContext _context;
    private readonly CloudProviderOptions _options;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<(string Service, int Replica), ReplicaHandle> _launched = new();
    private readonly ConcurrentDictionary<string, byte> _terminatedByUs = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Service, string Tier), string> _preemptedZone = new();
    private readonly ConcurrentDictionary<string, AwsCompute> _aws = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Project, string Endpoint), ICloudCompute> _gcp = new();
    private readonly HttpClient _gcpHttp = new() { Timeout = TimeSpan.FromSeconds(60) };
    private readonly ConcurrentDictionary<(string Service, int Replica), string> _tiers = new();
    private readonly ConcurrentDictionary<(string Service, string Tier), CloudTierSettings> _settingsOf = new();
    private readonly ConcurrentDictionary<string, byte> _preemptionsSeen = new(StringComparer.Ordinal);

    /// <summary>A provider for one daemon.</summary>
    public CloudProvider(ReplicaProviderContext context, CloudProviderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        _context = context;
        _options = options ?? new CloudProviderOptions();
        _logger = context.Loggers.CreateLogger("WrinkleFree.Providers.Cloud");
    }

    /// <inheritdoc />
    public string Name => ProviderNames.Cloud;

    /// <inheritdoc />
    public async Task<ReplicaHandle> LaunchAsync(ReplicaLaunchRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        request.Validate();
        if (_launched.TryGetValue((request.Service, request.ReplicaId), out var known))
            return known;
        var settings = CloudTierSettings.Parse(request.TierSettings, request.Spot, "settings", request.Resources);
        var compute = ComputeFor(settings);
        var tags = CloudTags.Of(request.Service, request.ReplicaId, request.Version, request.Tier);
        _tiers[(request.Service, request.ReplicaId)] = request.Tier;

        // A controller that died between RunInstances and storing the handle left the instance behind: that is this replica.
        var found = (await compute.ListAsync([.. settings.Zones.Select(z => z.Region).Distinct(StringComparer.Ordinal)], tags, cancellationToken).ConfigureAwait(false))
            .FirstOrDefault(i => i.State is CloudInstanceState.Pending or CloudInstanceState.Running);
        if (found is not null)
        {
            Log.FoundByTags(_logger, request.Service, request.ReplicaId, found.Ref.Id);
            return Remember(request, await WithAddressAsync(compute, found, cancellationToken).ConfigureAwait(false), settings);
        }

        var files = await FilesOfAsync(request, cancellationToken).ConfigureAwait(false);
        if (request.Tls is { } issuer)
        {
            // An instance's address is known only once it runs, after its user-data (which carries the certificate) is
            // fixed: the certificate names the instance instead, and the balancer and prober, which dial the address,
            // trust what chains to the service's own CA (see MutualTls.ConfigureClient).
            var certificate = issuer.Issue(request.ReplicaId, InstanceName(request));
            files["WF_TLS_CERT"] = await File.ReadAllTextAsync(certificate.CertFile, cancellationToken).ConfigureAwait(false);
            files["WF_TLS_KEY"] = await File.ReadAllTextAsync(certificate.KeyFile, cancellationToken).ConfigureAwait(false);
            files["WF_TLS_CLIENT_CA"] = await File.ReadAllTextAsync(certificate.ClientCaFile, cancellationToken).ConfigureAwait(false);
        }

        var userData = ReplicaUserData.Build(request, settings, EnvironmentOf(request, settings, files.Keys), files);
        var started = _context.Time.GetUtcNow().ToUnixTimeMilliseconds();
        var failures = new List<string>();
        var quotaRegions = new HashSet<string>(StringComparer.Ordinal);
        foreach (var zone in ZoneOrder(settings, request.Service, request.Tier))
        {
            if (quotaRegions.Contains(zone.Region))
            {
                failures.Add($"{zone.Zone}: skipped (quota in {zone.Region})");
                continue;
            }

            var launch = new CloudLaunch
            {
                Region = zone.Region,
                Zone = zone.Zone,
                Name = InstanceName(request),
                InstanceType = settings.InstanceType,
                Image = settings.Image,
                Spot = settings.Spot,
                UserData = userData,
                Tags = tags,
                ClientToken = ClientToken(request, zone.Zone, started),
                Network = settings.NetworkFor(zone),
            };
            try
            {
                var instance = await compute.LaunchAsync(launch, cancellationToken).ConfigureAwait(false);
                return Remember(request, await WithAddressAsync(compute, instance, cancellationToken).ConfigureAwait(false), settings);
            }
            catch (CloudCapacityException e)
            {
                Log.NoCapacity(_logger, request.Service, request.ReplicaId, zone.Zone, e.Message);
                failures.Add($"{zone.Zone}: {e.Code ?? "no capacity"}");
            }
            catch (CloudQuotaException e)
            {
                Log.NoQuota(_logger, request.Service, request.ReplicaId, zone.Region, e.Message);
                quotaRegions.Add(zone.Region);
                failures.Add($"{zone.Zone}: {e.Code ?? "quota"}");
            }
        }

        throw new CapacityShortageException(
            $"cloud: no zone could start replica {request.ReplicaId} of {request.Service} ({settings.InstanceType}{(settings.Spot ? ", spot" : "")}): {string.Join("; ", failures)}");
    }

    /// <inheritdoc />
    public async Task<ProviderReplicaStatus> GetStatusAsync(ReplicaHandle handle, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(handle);
        var (compute, where) = Locate(handle);
        CloudInstance? instance;
        try
        {
            instance = await compute.DescribeAsync(where, cancellationToken).ConfigureAwait(false);
        }
        catch (CloudApiException e)
        {
            return ProviderReplicaStatus.Unknown(e.Message);
        }

        var ours = _terminatedByUs.ContainsKey(where.Id);
        switch (instance?.State)
        {
            case null:
                return ProviderReplicaStatus.Exited(null, $"instance {where.Id} in {where.Zone} is gone");
            case CloudInstanceState.Pending or CloudInstanceState.Running:
                return ProviderReplicaStatus.Running;
            case CloudInstanceState.Preempted when !ours:
                NotePreemption(handle, where, instance.StateReason ?? "preempted");
                return ProviderReplicaStatus.Preempted($"instance {where.Id} in {where.Zone} was preempted: {instance.StateReason}");
            default:
                return ProviderReplicaStatus.Exited(null, $"instance {where.Id} in {where.Zone} is {instance.State.ToString().ToLowerInvariant()}{(ours ? " (terminated by wf)" : "")}: {instance.StateReason}");
        }
    }

    /// <inheritdoc />
    /// <remarks>
    /// Terminating the instance shuts its OS down: systemd sends the replica SIGTERM and gives it its stop timeout to
    /// finish in-flight requests (the replica answers /health "draining" meanwhile). The stop then waits for the
    /// instance to be gone, for the drain timeout plus the OS's shutdown.
    /// </remarks>
    public async Task StopAsync(ReplicaHandle handle, TimeSpan drainTimeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(handle);
        var (compute, where) = Locate(handle);
        _terminatedByUs[where.Id] = 0;
        await compute.TerminateAsync(where, cancellationToken).ConfigureAwait(false);
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bound.CancelAfter(drainTimeout + _options.ShutdownGrace);
        try
        {
            while (await compute.DescribeAsync(where, bound.Token).ConfigureAwait(false) is { State: CloudInstanceState.Pending or CloudInstanceState.Running or CloudInstanceState.Stopping })
                await Task.Delay(_options.PollInterval, _context.Time, bound.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"cloud: instance {where.Id} in {where.Zone} was still shutting down {(drainTimeout + _options.ShutdownGrace).TotalSeconds:0} s after its termination");
        }

        Log.Terminated(_logger, where.Id, where.Zone);
        _launched.TryRemove((handle.Service, handle.ReplicaId), out _);
    }

    /// <inheritdoc />
    /// <remarks>The cloud's console output is not read: the replica logs to the instance's journal.</remarks>
    public async IAsyncEnumerable<string> GetLogsAsync(ReplicaHandle handle, int? tail, bool follow, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(handle);
        await Task.CompletedTask.ConfigureAwait(false);
        var host = new Uri(handle.EndpointUrl).Host;
        yield return $"cloud: replica {handle.ReplicaId} of {handle.Service} logs to instance {handle.InstanceId} ({handle.Zone}, {host}); read them there: journalctl -u {ReplicaUserData.UnitName}";
    }

    /// <inheritdoc />
    public async Task<bool> AdoptAsync(ReplicaHandle handle, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(handle);
        if (handle.InstanceId is null || handle.Region is null || handle.Zone is null)
            return false;
        var (compute, where) = Locate(handle);
        CloudInstance? instance;
        try
        {
            instance = await compute.DescribeAsync(where, cancellationToken).ConfigureAwait(false);
        }
        catch (CloudApiException e)
        {
            Log.NotAdopted(_logger, where.Id, e.Message);
            return false;
        }

        var why = instance switch
        {
            null => "it is gone",
            _ when instance.Tags.GetValueOrDefault(CloudTags.Service) != CloudTags.Label(handle.Service)
                || instance.Tags.GetValueOrDefault(CloudTags.Replica) != handle.ReplicaId.ToString(CultureInfo.InvariantCulture) => "its tags name another replica",
            _ when instance.State is not (CloudInstanceState.Pending or CloudInstanceState.Running) => $"it is {instance.State.ToString().ToLowerInvariant()}",
            _ => null,
        };
        if (why is not null)
        {
            Log.NotAdopted(_logger, where.Id, why);
            return false;
        }

        if (instance!.Tags.GetValueOrDefault(CloudTags.Tier) is { } tier)
            _tiers[(handle.Service, handle.ReplicaId)] = tier;
        _launched.TryAdd((handle.Service, handle.ReplicaId), handle);
        Log.Adopted(_logger, where.Id, where.Zone, handle.ReplicaId, handle.Service);
        return true;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var aws in _aws.Values)
            aws.Dispose();
        _aws.Clear();
        _gcpHttp.Dispose();
    }

    // One token per replica, zone and launch: the SDK's retries of that call reuse it (EC2 then answers with the
    // instance it started); a later launch of the same replica id after its instance ended gets a new one.
    private static string ClientToken(ReplicaLaunchRequest request, string zone, long started)
    {
        var text = string.Create(CultureInfo.InvariantCulture, $"{request.Service}/{request.ReplicaId}/{request.Version}/{zone}/{started}");
        return "wf-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..40];
    }
}
