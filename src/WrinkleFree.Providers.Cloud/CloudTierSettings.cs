using System.Globalization;
using WrinkleFree.Providers.Cloud.Aws;
using WrinkleFree.Service.Spec;

namespace WrinkleFree.Providers.Cloud;

/// <summary>A cloud tier's <c>settings:</c>, read and checked once at the edge (<see cref="Parse"/>).</summary>
public sealed record CloudTierSettings
{
    /// <summary>The setting keys a cloud tier knows.</summary>
    public static IReadOnlyList<string> Keys { get; } =
    [
        "infra", "regions", "zones", "instance_type", "image", "key_name", "subnet_id", "subnet_ids", "security_group_ids", "port", "endpoint",
        "recovery", "model_url", "model_sha256", "wf_url", "wf_sha256", "project", "network", "subnetwork", "service_account", "network_tags",
        "disk_size_gb", "public_ip",
    ];

    // Settings only one cloud understands: given to the other, they would be silently meaningless.
    private static readonly string[] AwsOnly = ["key_name", "subnet_id", "subnet_ids", "security_group_ids"];
    private static readonly string[] GcpOnly = ["project", "network", "subnetwork", "service_account", "network_tags", "disk_size_gb", "public_ip"];

    /// <summary><c>aws</c> or <c>gcp</c>.</summary>
    public required string Infra { get; init; }

    /// <summary>The GCP project instances run in (gcp only).</summary>
    public string? Project { get; init; }

    /// <summary>The zones to place in, in preference order (regions first by <c>regions</c> when given).</summary>
    public required IReadOnlyList<CloudZone> Zones { get; init; }

    /// <summary>The machine type: the settings' <c>instance_type</c>, or the catalog's cheapest for <c>resources:</c> cpus/memory.</summary>
    public required string InstanceType { get; init; }

    /// <summary>Why this type: "as written" or what it was chosen for (shown by <c>wf validate</c> / <c>wf up</c>).</summary>
    public string InstanceTypeReason { get; init; } = "as written";

    /// <summary>The machine image (AMI id; GCE image URL): a Linux with systemd and cloud-init.</summary>
    public required string Image { get; init; }

    /// <summary>The tier's <c>spot:</c>.</summary>
    public bool Spot { get; init; }

    /// <summary>Key pair and security groups as <see cref="Compute.CloudLaunch.Network"/> carries them (subnets are per zone: <see cref="NetworkFor"/>).</summary>
    public IReadOnlyDictionary<string, string> Network { get; init; } = new Dictionary<string, string>();

    /// <summary>The launch network settings in <paramref name="zone"/>: the tier's, plus the zone's subnet when one is given.</summary>
    public IReadOnlyDictionary<string, string> NetworkFor(CloudZone zone)
    {
        ArgumentNullException.ThrowIfNull(zone);
        if (zone.Subnet is null)
            return Network;
        return new Dictionary<string, string>(Network, StringComparer.Ordinal) { [AwsNetworkKeys.SubnetId] = zone.Subnet };
    }

    /// <summary>The port the replica listens on, on the instance's private address.</summary>
    public int Port { get; init; } = 8080;

    /// <summary>The compute API's endpoint instead of the cloud's own; null: the SDK's (AWS_ENDPOINT_URL_EC2 is honoured).</summary>
    public Uri? Endpoint { get; init; }

    public CloudRecovery Recovery { get; init; } = CloudRecovery.EagerNextRegion;

    /// <summary>Where the instance fetches the model (s3://, gs:// or https://); null: the image or the envs hold it.</summary>
    public string? ModelUrl { get; init; }

    /// <summary>The model file's SHA-256 (hex), checked before the replica starts; required with <see cref="ModelUrl"/>.</summary>
    public string? ModelSha256 { get; init; }

    /// <summary>Where the instance fetches the serving <c>wf</c> binary; null: the image carries it at /usr/local/bin/wf.</summary>
    public string? WfUrl { get; init; }

    public string? WfSha256 { get; init; }

    /// <summary>
    /// Reads <paramref name="settings"/> of a tier with <c>spot: <paramref name="spot"/></c> for a spec whose
    /// <c>resources:</c> is <paramref name="resources"/>; throws <see cref="ServiceSpecException"/> at
    /// <c>{keyPath}.KEY</c> (or <c>resources.KEY</c>) naming an unknown key, a missing one, or a bad value.
    /// </summary>
    public static CloudTierSettings Parse(IReadOnlyDictionary<string, object?> settings, bool spot, string keyPath, ResourcesSpec? resources = null)
    {
        resources ??= new ResourcesSpec();
        ArgumentNullException.ThrowIfNull(settings);
        foreach (var key in settings.Keys)
        {
            if (!Keys.Contains(key, StringComparer.Ordinal))
                throw new ServiceSpecException($"{keyPath}.{key}", $"unknown setting of a cloud tier; known: {string.Join(", ", Keys)}");
        }

        var infra = String(settings, "infra", keyPath) ?? throw new ServiceSpecException($"{keyPath}.infra", "a cloud tier needs settings: {infra: aws|gcp}");
        if (infra is not ("aws" or "gcp"))
            throw new ServiceSpecException($"{keyPath}.infra", $"must be aws or gcp, got '{infra}'");
        var foreign = settings.Keys.FirstOrDefault(k => (infra == "aws" ? GcpOnly : AwsOnly).Contains(k, StringComparer.Ordinal));
        if (foreign is not null)
        {
            throw new ServiceSpecException($"{keyPath}.{foreign}",
                $"is a{(infra == "aws" ? " gcp" : "n aws")} setting and this tier has infra: {infra}; its settings are {string.Join(", ", Keys.Where(k => !(infra == "aws" ? GcpOnly : AwsOnly).Contains(k, StringComparer.Ordinal)))}");
        }

        var project = String(settings, "project", keyPath);
        if (infra == "gcp" && project is null)
            throw new ServiceSpecException($"{keyPath}.project", "a gcp tier needs settings: {project: PROJECT_ID}, the project its instances run in");
        var network = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var key in new[] { "network", "subnetwork", "service_account" })
        {
            if (String(settings, key, keyPath) is { } value)
                network[key] = value;
        }

        if (List(settings, "network_tags", keyPath) is { Count: > 0 } networkTags)
            network["network_tags"] = string.Join(',', networkTags);
        if (settings.GetValueOrDefault("disk_size_gb") is { } disk)
            network["disk_size_gb"] = disk is long gb and >= 10 and <= 65536 ? gb.ToString(CultureInfo.InvariantCulture) : throw new ServiceSpecException($"{keyPath}.disk_size_gb", "must be a whole number of GB from 10 to 65536");
        if (settings.GetValueOrDefault("public_ip") is { } publicIp)
            network["public_ip"] = publicIp is bool b ? (b ? "true" : "false") : throw new ServiceSpecException($"{keyPath}.public_ip", "must be true or false");
        if (String(settings, "key_name", keyPath) is { } keyName)
            network[AwsNetworkKeys.KeyName] = keyName;
        if (List(settings, "security_group_ids", keyPath) is { Count: > 0 } groups)
            network[AwsNetworkKeys.SecurityGroupIds] = string.Join(',', groups);
        var modelUrl = String(settings, "model_url", keyPath);
        var modelSha = Sha256(settings, "model_sha256", keyPath);
        if (modelUrl is not null && modelSha is null)
            throw new ServiceSpecException($"{keyPath}.model_sha256", "model_url needs model_sha256 (hex): the instance checks the file before serving it");
        if (modelUrl is not null && !(modelUrl.StartsWith("s3://", StringComparison.Ordinal) || modelUrl.StartsWith("gs://", StringComparison.Ordinal) || modelUrl.StartsWith("https://", StringComparison.Ordinal)))
            throw new ServiceSpecException($"{keyPath}.model_url", $"must be an s3://, gs:// or https:// URL, got '{modelUrl}'");
        var wfUrl = String(settings, "wf_url", keyPath);
        var wfSha = Sha256(settings, "wf_sha256", keyPath);
        if (wfUrl is not null && wfSha is null)
            throw new ServiceSpecException($"{keyPath}.wf_sha256", "wf_url needs wf_sha256 (hex): the instance checks the binary before running it");
        var (instanceType, instanceReason) = ChooseInstanceType(String(settings, "instance_type", keyPath), infra, resources, keyPath);
        return new CloudTierSettings
        {
            Infra = infra,
            Project = project,
            Zones = ReadZones(settings, infra, keyPath),
            InstanceType = instanceType,
            InstanceTypeReason = instanceReason,
            Image = String(settings, "image", keyPath)
                ?? throw new ServiceSpecException($"{keyPath}.image", "a cloud tier needs settings: {image: ID}, a Linux image with systemd and cloud-init (an AMI id on aws)"),
            Spot = spot,
            Network = network,
            Port = settings.GetValueOrDefault("port") switch
            {
                null => 8080,
                long p and >= 1 and <= 65535 => (int)p,
                _ => throw new ServiceSpecException($"{keyPath}.port", "must be a port number 1..65535"),
            },
            Endpoint = String(settings, "endpoint", keyPath) is { } endpoint
                ? Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" ? uri : throw new ServiceSpecException($"{keyPath}.endpoint", $"must be an http(s) URL, got '{endpoint}'")
                : null,
            Recovery = String(settings, "recovery", keyPath) switch
            {
                null or "EAGER_NEXT_REGION" => CloudRecovery.EagerNextRegion,
                "FAILOVER" => CloudRecovery.Failover,
                var other => throw new ServiceSpecException($"{keyPath}.recovery", $"must be EAGER_NEXT_REGION or FAILOVER, got '{other}'"),
            },
            ModelUrl = modelUrl,
            ModelSha256 = modelSha,
            WfUrl = wfUrl,
            WfSha256 = wfSha,
        };
    }

    // A written type is checked against what resources: asks when the catalog knows it (a newer type it does not know
    // is taken as written); without one, the catalog's cheapest type that fits is chosen, as SkyPilot does.
    private static (string Type, string Reason) ChooseInstanceType(string? written, string infra, ResourcesSpec resources, string keyPath)
    {
        var asked = string.Join(", ", new[] { resources.Cpus is { } c ? $"cpus {c}" : null, resources.Memory is { } m ? $"memory {m}" : null }.Where(x => x is not null));
        if (written is not null)
        {
            if (InstanceCatalog.Find(infra, written) is { } known && !InstanceCatalog.Fits(known, resources))
            {
                throw new ServiceSpecException($"{keyPath}.instance_type",
                    $"{known} does not have what resources: asks ({asked}); choose a larger type, or leave instance_type out and the cheapest that fits is chosen");
            }

            return (written, "as written");
        }

        if (resources.Cpus is null && resources.Memory is null)
        {
            throw new ServiceSpecException($"{keyPath}.instance_type",
                "a cloud tier needs settings: {instance_type: TYPE} (e.g. r7a.xlarge or n2-highmem-4), or resources: {cpus: N+, memory: GB+} to choose the cheapest type that fits");
        }

        var chosen = InstanceCatalog.Choose(infra, resources, "resources");
        return (chosen.Name, $"{chosen}, the cheapest {infra} type with {asked}");
    }

    /// <summary>The region of a zone: EC2 drops the zone's letter (us-east-1a), GCE its last dash part (us-central1-a).</summary>
    public static string RegionOf(string infra, string zone) =>
        infra == "aws" ? AwsCompute.RegionOf(zone) : zone.LastIndexOf('-') is > 0 and var dash ? zone[..dash] : zone;

    private static List<CloudZone> ReadZones(IReadOnlyDictionary<string, object?> settings, string infra, string keyPath)
    {
        var zones = List(settings, "zones", keyPath)
            ?? throw new ServiceSpecException($"{keyPath}.zones", "a cloud tier needs settings: {zones: [ZONE, ...]} in preference order (e.g. [us-east-1a, us-east-1b])");
        if (zones.Count == 0)
            throw new ServiceSpecException($"{keyPath}.zones", "must list at least one zone");
        var regions = List(settings, "regions", keyPath);
        // A subnet lives in one zone: one subnet_id fits a one-zone tier; several zones name theirs in subnet_ids.
        var subnet = String(settings, "subnet_id", keyPath);
        if (subnet is not null && zones.Count > 1)
            throw new ServiceSpecException($"{keyPath}.subnet_id", $"a subnet is in one zone and this tier lists {zones.Count}; give subnet_ids: {{ZONE: SUBNET, ...}} instead");
        var subnets = settings.GetValueOrDefault("subnet_ids") switch
        {
            null => new Dictionary<string, string>(StringComparer.Ordinal),
            IReadOnlyDictionary<string, object?> map => map.ToDictionary(
                p => zones.Contains(p.Key, StringComparer.Ordinal) ? p.Key : throw new ServiceSpecException($"{keyPath}.subnet_ids.{p.Key}", "names a zone that zones: does not list"),
                p => p.Value as string is { Length: > 0 } v ? v : throw new ServiceSpecException($"{keyPath}.subnet_ids.{p.Key}", "must be a subnet id"),
                StringComparer.Ordinal),
            _ => throw new ServiceSpecException($"{keyPath}.subnet_ids", "must be a map of zone to subnet id, e.g. {us-east-1a: subnet-0abc}"),
        };
        if (subnet is not null && subnets.Count > 0)
            throw new ServiceSpecException($"{keyPath}.subnet_id", "give subnet_id or subnet_ids, not both");
        if (subnet is not null)
            subnets[zones[0]] = subnet;
        var result = new List<CloudZone>();
        for (var i = 0; i < zones.Count; i++)
        {
            var region = RegionOf(infra, zones[i]);
            if (region == zones[i])
                throw new ServiceSpecException($"{keyPath}.zones[{i}]", $"'{zones[i]}' is a region, not a zone; name its zones (e.g. {zones[i]}{(infra == "aws" ? "a" : "-a")})");
            if (regions is not null && !regions.Contains(region, StringComparer.Ordinal))
                throw new ServiceSpecException($"{keyPath}.zones[{i}]", $"zone {zones[i]} is in region {region}, which regions: does not list ({string.Join(", ", regions)})");
            if (result.Any(z => z.Zone == zones[i]))
                throw new ServiceSpecException($"{keyPath}.zones[{i}]", $"zone {zones[i]} is listed twice");
            result.Add(new CloudZone(region, zones[i], subnets.GetValueOrDefault(zones[i])));
        }

        if (regions is not null)
        {
            // regions: orders the regions; the zones keep their own order within each.
            var unused = regions.FirstOrDefault(r => result.All(z => z.Region != r));
            if (unused is not null)
                throw new ServiceSpecException($"{keyPath}.regions", $"region {unused} has no zone in zones:; list the zones to use there");
            result = [.. result.OrderBy(z => regions.IndexOf(z.Region))];
        }

        return result;
    }

    private static string? String(IReadOnlyDictionary<string, object?> settings, string key, string keyPath) =>
        settings.GetValueOrDefault(key) switch
        {
            null => null,
            string { Length: > 0 } s => s,
            _ => throw new ServiceSpecException($"{keyPath}.{key}", "must be a non-empty string"),
        };

    private static string? Sha256(IReadOnlyDictionary<string, object?> settings, string key, string keyPath) =>
        String(settings, key, keyPath) switch
        {
            null => null,
            { Length: 64 } hex when hex.All(char.IsAsciiHexDigit) => hex.ToLowerInvariant(),
            _ => throw new ServiceSpecException($"{keyPath}.{key}", "must be a SHA-256 as 64 hex digits"),
        };

    private static List<string>? List(IReadOnlyDictionary<string, object?> settings, string key, string keyPath) =>
        settings.GetValueOrDefault(key) switch
        {
            null => null,
            string { Length: > 0 } one => [one],
            IReadOnlyList<object?> list => [.. list.Select((v, i) => v is string { Length: > 0 } s ? s
                : throw new ServiceSpecException(string.Create(CultureInfo.InvariantCulture, $"{keyPath}.{key}[{i}]"), "must be a non-empty string"))],
            _ => throw new ServiceSpecException($"{keyPath}.{key}", "must be a list of strings"),
        };
}
