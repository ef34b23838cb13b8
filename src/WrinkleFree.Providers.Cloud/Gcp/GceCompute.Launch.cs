using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using WrinkleFree.Providers.Cloud.Compute;

namespace WrinkleFree.Providers.Cloud.Gcp;

internal sealed partial class GceCompute
{
    /// <summary>The <see cref="CloudLaunch.Network"/> keys GCE understands; any other key is refused, never ignored.</summary>
    public static readonly IReadOnlyList<string> NetworkSettings = ["network", "subnetwork", "service_account", "public_ip", "disk_size_gb", "network_tags"];

    /// <summary>The scope a given service account gets; what it may do is then decided by its IAM roles.</summary>
    private const string CloudPlatformScope = "https://www.googleapis.com/auth/cloud-platform";

    /// <summary>How many failed earlier attempts one launch steps past; more means the zone keeps failing, reported as is.</summary>
    private const int MaxReplays = 16;

    /// <summary>GCE's limit for one metadata value; a larger user-data is refused here, naming the launch.</summary>
    private const int MaxMetadataValueBytes = 256 * 1024;

    public async Task<CloudInstance> LaunchAsync(CloudLaunch launch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(launch);
        var body = InsertBody(launch);
        var call = $"instances.insert {launch.Name}";
        var requestId = RequestId(launch.ClientToken);
        for (var replays = 0; ; replays++)
        {
            var operation = await InsertAsync(launch, body, requestId, call, cancellationToken).ConfigureAwait(false);
            if (operation is null)
                return await ExistingAsync(launch, cancellationToken).ConfigureAwait(false);

            // GCE answers a known requestId with that request's operation. One already DONE with an error is an earlier
            // attempt that created nothing (a zone out of capacity an hour ago): replaying it would keep this launch from
            // ever succeeding here, so the next request id is derived from that failed operation, which keeps retries of
            // this new attempt idempotent too.
            if (operation.Status == "DONE" && operation.Error is { Errors.Count: > 0 } && replays < MaxReplays && operation.Name is { } failed)
            {
                GceLog.SteppedPastFailedInsert(_logger, launch.Name, launch.Zone, failed);
                requestId = RequestId(launch.ClientToken + "/after/" + failed);
                continue;
            }

            try
            {
                await _operations.WaitAsync(call, launch.Zone, operation, cancellationToken).ConfigureAwait(false);
            }
            catch (CloudApiException e) when (e.Code is "RESOURCE_ALREADY_EXISTS" or "alreadyExists")
            {
                return await ExistingAsync(launch, cancellationToken).ConfigureAwait(false);
            }

            var instance = await DescribeAsync(new CloudInstanceRef(launch.Name, RegionOf(launch.Zone), launch.Zone), cancellationToken).ConfigureAwait(false)
                ?? throw new CloudApiException($"gcp: {call} in zone {launch.Zone} finished, but the instance is not there", "RESOURCE_NOT_FOUND");
            GceLog.Launched(_logger, launch.Name, launch.Zone, launch.Spot ? "spot" : "standard", instance.State.ToString(), instance.PrivateIp);
            return instance;
        }
    }

    /// <summary>The insert's operation; null when the name exists already (409), for the caller's create-or-get.</summary>
    private async Task<GceOperation?> InsertAsync(CloudLaunch launch, GceInstance body, string requestId, string call, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(HttpMethod.Post, ZonePath(launch.Zone, "instances?requestId=" + requestId), () => JsonContent.Create(body, GceJsonContext.Default.GceInstance), cancellationToken).ConfigureAwait(false);

        // A retry after the request id expired (GCE keeps them about an hour) meets the instance by its name.
        if (response.StatusCode == HttpStatusCode.Conflict)
            return null;
        if (!response.IsSuccessStatusCode)
            throw await GceErrors.FromResponseAsync(call, launch.Zone, response, cancellationToken).ConfigureAwait(false);
        return await ReadAsync(response, GceJsonContext.Default.GceOperation, call, launch.Zone, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// GCE wants requestId as a UUID; one derived from the client token makes every retry of a launch the same request,
    /// so GCE answers a retry with the first attempt's operation instead of a second instance.
    /// </summary>
    internal static string RequestId(string clientToken)
    {
        if (string.IsNullOrWhiteSpace(clientToken))
            throw new ArgumentException("gcp: the launch's client token is empty; it is what makes a retried launch start one instance", nameof(clientToken));
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes("wf-gce-request:" + clientToken), hash);
        var bytes = hash[..16];
        // RFC 9562 version 8 (custom) and variant bits, so the value is a well-formed UUID.
        bytes[6] = (byte)((bytes[6] & 0x0F) | 0x80);
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        return new Guid(bytes, bigEndian: true).ToString("D");
    }

    private async Task<CloudInstance> ExistingAsync(CloudLaunch launch, CancellationToken cancellationToken)
    {
        var instance = await DescribeAsync(new CloudInstanceRef(launch.Name, RegionOf(launch.Zone), launch.Zone), cancellationToken).ConfigureAwait(false)
            ?? throw new CloudApiException($"gcp: instances.insert {launch.Name} in zone {launch.Zone}: GCE says the name exists, but the instance is not there", "alreadyExists");
        var foreign = launch.Tags.Where(t => !instance.Tags.TryGetValue(t.Key, out var value) || value != t.Value).Select(t => t.Key).ToList();
        if (foreign.Count > 0)
        {
            throw new CloudApiException(
                $"gcp: instances.insert {launch.Name} in zone {launch.Zone}: an instance of that name exists with other labels ({string.Join(", ", foreign)}); it is not this launch's, so it is left alone",
                "alreadyExists");
        }

        return instance;
    }

    private static GceInstance InsertBody(CloudLaunch launch)
    {
        GceNames.RequireZone(launch.Zone, "zone");
        GceNames.RequireInstanceName(launch.Name, "name");
        GceNames.RequireLabels(launch.Tags);
        if (string.IsNullOrWhiteSpace(launch.InstanceType) || launch.InstanceType.Contains('/', StringComparison.Ordinal))
            throw new ArgumentException($"gcp: instance type '{launch.InstanceType}' is not a machine type name (like n2-standard-8)", nameof(launch));
        if (!(launch.Image.StartsWith("projects/", StringComparison.Ordinal) || launch.Image.StartsWith("global/images/", StringComparison.Ordinal) || launch.Image.StartsWith("https://", StringComparison.Ordinal)))
            throw new ArgumentException($"gcp: image '{launch.Image}' is not a GCE image path (projects/P/global/images/NAME, projects/P/global/images/family/FAMILY, global/images/NAME or an https URL)", nameof(launch));
        if (Encoding.UTF8.GetByteCount(launch.UserData) > MaxMetadataValueBytes)
            throw new ArgumentException($"gcp: user-data of {launch.Name} is {Encoding.UTF8.GetByteCount(launch.UserData)} bytes; GCE takes at most {MaxMetadataValueBytes} per metadata value", nameof(launch));
        var unknown = launch.Network.Keys.Where(k => !NetworkSettings.Contains(k)).ToList();
        if (unknown.Count > 0)
            throw new ArgumentException($"gcp: network setting(s) {string.Join(", ", unknown)} not known; GCE takes {string.Join(", ", NetworkSettings)}", nameof(launch));

        var region = RegionOf(launch.Zone);
        var network = launch.Network.GetValueOrDefault("network", "default");
        var subnetwork = launch.Network.GetValueOrDefault("subnetwork");
        var publicIp = ParseBool(launch.Network.GetValueOrDefault("public_ip", "true"), "public_ip");
        var networkInterface = new GceNetworkInterface
        {
            Network = network.Contains('/', StringComparison.Ordinal) ? network : "global/networks/" + network,
            Subnetwork = subnetwork is null ? null : subnetwork.Contains('/', StringComparison.Ordinal) ? subnetwork : $"regions/{region}/subnetworks/{subnetwork}",
            AccessConfigs = publicIp ? [new GceAccessConfig { Type = "ONE_TO_ONE_NAT", Name = "External NAT" }] : null,
        };
        string? diskSize = null;
        if (launch.Network.TryGetValue("disk_size_gb", out var size))
        {
            if (!int.TryParse(size, NumberStyles.None, CultureInfo.InvariantCulture, out var gb) || gb is < 10 or > 65536)
                throw new ArgumentException($"gcp: disk_size_gb '{size}' is not a whole number of GB from 10 to 65536", nameof(launch));
            diskSize = gb.ToString(CultureInfo.InvariantCulture);
        }

        List<string>? networkTags = null;
        if (launch.Network.TryGetValue("network_tags", out var tags))
        {
            networkTags = [.. tags.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
            foreach (var tag in networkTags)
                GceNames.RequireInstanceName(tag, "network_tags entry");
        }

        return new GceInstance
        {
            Name = launch.Name,
            MachineType = $"zones/{launch.Zone}/machineTypes/{launch.InstanceType}",
            Labels = launch.Tags.ToDictionary(t => t.Key, t => t.Value, StringComparer.Ordinal),
            Metadata = new GceMetadata { Items = [new GceMetadataItem("user-data", launch.UserData)] },
            // Spot VMs are deleted on preemption, so nothing (disk, IP) lingers and costs after the cloud takes them back.
            Scheduling = launch.Spot
                ? new GceScheduling { ProvisioningModel = "SPOT", InstanceTerminationAction = "DELETE", Preemptible = true, AutomaticRestart = false, OnHostMaintenance = "TERMINATE" }
                : new GceScheduling { ProvisioningModel = "STANDARD", AutomaticRestart = true, OnHostMaintenance = "MIGRATE" },
            Disks = [new GceAttachedDisk { Boot = true, AutoDelete = true, Type = "PERSISTENT", InitializeParams = new GceDiskInitializeParams { SourceImage = launch.Image, DiskSizeGb = diskSize } }],
            NetworkInterfaces = [networkInterface],
            ServiceAccounts = launch.Network.TryGetValue("service_account", out var account) ? [new GceServiceAccount(account, [CloudPlatformScope])] : null,
            Tags = networkTags is null ? null : new GceTags { Items = networkTags },
        };
    }

    private static bool ParseBool(string value, string field) => value switch
    {
        "true" => true,
        "false" => false,
        _ => throw new ArgumentException($"gcp: {field} '{value}' is not true or false", field),
    };
}
