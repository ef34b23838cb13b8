namespace WrinkleFree.Providers.Cloud.Gcp;

// The fields of Compute Engine v1's Instance resource the provider reads or writes. No Compute client library is served
// here, so the few REST calls are written by hand over HttpClient with these records and a source-generated
// System.Text.Json context (GceJsonContext); unknown fields the API returns are skipped.

internal sealed record GceInstance
{
    public string? Id { get; init; }

    public string? Name { get; init; }

    public string? Zone { get; init; }

    public string? MachineType { get; init; }

    public string? Status { get; init; }

    public string? StatusMessage { get; init; }

    public string? SelfLink { get; init; }

    public string? CreationTimestamp { get; init; }

    public Dictionary<string, string>? Labels { get; init; }

    public GceMetadata? Metadata { get; init; }

    public GceScheduling? Scheduling { get; init; }

    public List<GceAttachedDisk>? Disks { get; init; }

    public List<GceNetworkInterface>? NetworkInterfaces { get; init; }

    public List<GceServiceAccount>? ServiceAccounts { get; init; }

    public GceTags? Tags { get; init; }
}

internal sealed record GceMetadata
{
    public List<GceMetadataItem>? Items { get; init; }
}

internal sealed record GceMetadataItem(string Key, string Value);

internal sealed record GceScheduling
{
    /// <summary>SPOT or STANDARD.</summary>
    public string? ProvisioningModel { get; init; }

    /// <summary>DELETE or STOP: what GCE does to a preempted Spot VM.</summary>
    public string? InstanceTerminationAction { get; init; }

    public bool? Preemptible { get; init; }

    public bool? AutomaticRestart { get; init; }

    public string? OnHostMaintenance { get; init; }
}

internal sealed record GceAttachedDisk
{
    public bool Boot { get; init; }

    public bool AutoDelete { get; init; }

    public string? Type { get; init; }

    public GceDiskInitializeParams? InitializeParams { get; init; }
}

internal sealed record GceDiskInitializeParams
{
    public string? SourceImage { get; init; }

    /// <summary>GCE's int64 fields travel as JSON strings.</summary>
    public string? DiskSizeGb { get; init; }
}

internal sealed record GceNetworkInterface
{
    public string? Network { get; init; }

    public string? Subnetwork { get; init; }

    public string? NetworkIP { get; init; }

    public List<GceAccessConfig>? AccessConfigs { get; init; }
}

internal sealed record GceAccessConfig
{
    public string? Type { get; init; }

    public string? Name { get; init; }

    public string? NatIP { get; init; }
}

internal sealed record GceServiceAccount(string Email, List<string> Scopes);

internal sealed record GceTags
{
    public List<string>? Items { get; init; }
}

internal sealed record GceInstanceList
{
    public List<GceInstance>? Items { get; init; }

    public string? NextPageToken { get; init; }
}

internal sealed record GceInstanceAggregatedList
{
    /// <summary>Keyed by scope ("zones/us-central1-a"); a scope without instances carries only a warning.</summary>
    public Dictionary<string, GceInstancesScopedList>? Items { get; init; }

    public string? NextPageToken { get; init; }
}

internal sealed record GceInstancesScopedList
{
    public List<GceInstance>? Instances { get; init; }
}
