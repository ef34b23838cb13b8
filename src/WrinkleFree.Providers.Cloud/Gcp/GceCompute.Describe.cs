using System.Net;
using WrinkleFree.Providers.Cloud.Compute;

namespace WrinkleFree.Providers.Cloud.Gcp;

internal sealed partial class GceCompute
{
    /// <summary>The operation type GCE records in the zone when it takes a Spot/preemptible VM back.</summary>
    internal const string PreemptedOperation = "compute.instances.preempted";

    public async Task<CloudInstance?> DescribeAsync(CloudInstanceRef instance, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(instance);
        GceNames.RequireZone(instance.Zone, "zone");
        GceNames.RequireInstanceName(instance.Id, "instance id");
        using var response = await SendAsync(HttpMethod.Get, InstancePath(instance.Zone, instance.Id), null, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound)
            return await DeletedByPreemptionAsync(instance, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
            throw await GceErrors.FromResponseAsync($"instances.get {instance.Id}", instance.Zone, response, cancellationToken).ConfigureAwait(false);
        var found = await ReadAsync(response, GceJsonContext.Default.GceInstance, $"instances.get {instance.Id}", instance.Zone, cancellationToken).ConfigureAwait(false);
        return await ToCloudInstanceAsync(found, instance.Zone, cancellationToken).ConfigureAwait(false);
    }

    private async Task<CloudInstance> ToCloudInstanceAsync(GceInstance found, string zone, CancellationToken cancellationToken)
    {
        var name = found.Name ?? throw new CloudApiException($"gcp: an instance in zone {zone} came back without a name", "BAD_RESPONSE");
        var spot = found.Scheduling is { ProvisioningModel: "SPOT" } or { Preemptible: true };
        var state = found.Status switch
        {
            "PROVISIONING" or "STAGING" or "REPAIRING" => CloudInstanceState.Pending,
            "RUNNING" => CloudInstanceState.Running,
            "STOPPING" or "SUSPENDING" => CloudInstanceState.Stopping,
            // A suspended or stopped VM serves nothing until someone resumes it, which the provider never does.
            "TERMINATED" or "SUSPENDED" or "STOPPED" => CloudInstanceState.Terminated,
            _ => throw new CloudApiException($"gcp: instance {name} in zone {zone} has status '{found.Status}', which this provider does not know", "BAD_RESPONSE"),
        };
        var reason = found.StatusMessage;

        // GCE does not put the preemption on the instance itself; it records a compute.instances.preempted operation in
        // the zone (a preempting VM is STOPPING, then TERMINATED or deleted). Only a spot VM that is going away is asked
        // about, so a running fleet costs one call per instance, not two.
        if (spot && state is CloudInstanceState.Stopping or CloudInstanceState.Terminated)
        {
            var preemption = await FindPreemptionAsync(zone, name, found.Id, cancellationToken).ConfigureAwait(false);
            if (preemption is not null)
            {
                state = CloudInstanceState.Preempted;
                reason = PreemptionReason(preemption);
                GceLog.Preempted(_logger, name, zone, reason);
            }
            else if (state == CloudInstanceState.Terminated && reason?.Contains("preempted", StringComparison.OrdinalIgnoreCase) == true)
            {
                state = CloudInstanceState.Preempted;
            }
        }

        var nic = found.NetworkInterfaces is { Count: > 0 } nics ? nics[0] : null;
        return new CloudInstance
        {
            Ref = new CloudInstanceRef(name, RegionOf(zone), zone),
            State = state,
            StateReason = reason ?? (state == CloudInstanceState.Terminated ? found.Status : null),
            PrivateIp = nic?.NetworkIP,
            PublicIp = nic?.AccessConfigs is { Count: > 0 } access ? access[0].NatIP : null,
            Spot = spot,
            InstanceType = LastSegment(found.MachineType),
            LaunchTime = ParseTime(found.CreationTimestamp),
            Tags = found.Labels ?? [],
        };
    }

    /// <summary>
    /// A spot VM is created with instanceTerminationAction DELETE, so after a preemption GCE deletes it and instances.get
    /// answers 404; the zone's preempted operation still says what happened, which the provider needs to report PREEMPTED
    /// (and recover by its spot policy) instead of a replica that merely vanished. Only the name, zone and reason are known.
    /// </summary>
    private async Task<CloudInstance?> DeletedByPreemptionAsync(CloudInstanceRef instance, CancellationToken cancellationToken)
    {
        var preemption = await FindPreemptionAsync(instance.Zone, instance.Id, id: null, cancellationToken).ConfigureAwait(false);
        if (preemption is null)
            return null;
        GceLog.Preempted(_logger, instance.Id, instance.Zone, PreemptionReason(preemption) + " (instance deleted)");
        return new CloudInstance
        {
            Ref = instance with { Region = RegionOf(instance.Zone) },
            State = CloudInstanceState.Preempted,
            StateReason = PreemptionReason(preemption) + " (instance deleted)",
            Spot = true,
            InstanceType = "",
        };
    }

    /// <summary>
    /// The newest preempted operation for this instance: by its numeric id when it still exists (a later instance of the
    /// same name has another id), else by the name at the end of the operation's targetLink.
    /// </summary>
    private async Task<GceOperation?> FindPreemptionAsync(string zone, string name, string? id, CancellationToken cancellationToken)
    {
        var filter = $"(operationType = \"{PreemptedOperation}\")" + (id is null ? "" : $" AND (targetId = \"{id}\")");
        var suffix = $"/zones/{zone}/instances/{name}";
        GceOperation? newest = null;
        string? page = null;
        do
        {
            var query = "operations?filter=" + Uri.EscapeDataString(filter) + (page is null ? "" : "&pageToken=" + Uri.EscapeDataString(page));
            using var response = await SendAsync(HttpMethod.Get, ZonePath(zone, query), null, cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
                throw await GceErrors.FromResponseAsync($"zoneOperations.list (preemptions of {name})", zone, response, cancellationToken).ConfigureAwait(false);
            var list = await ReadAsync(response, GceJsonContext.Default.GceOperationList, "zoneOperations.list", zone, cancellationToken).ConfigureAwait(false);
            foreach (var operation in list.Items ?? [])
            {
                if (operation.TargetLink?.EndsWith(suffix, StringComparison.Ordinal) != true)
                    continue;
                if (newest is null || (ParseTime(operation.InsertTime) ?? DateTimeOffset.MinValue) > (ParseTime(newest.InsertTime) ?? DateTimeOffset.MinValue))
                    newest = operation;
            }

            page = list.NextPageToken;
        }
        while (!string.IsNullOrEmpty(page));
        return newest;
    }

    private static string PreemptionReason(GceOperation operation) =>
        $"{PreemptedOperation}: {operation.StatusMessage ?? "Instance was preempted."}" + (operation.InsertTime is null ? "" : $" at {operation.InsertTime}");
}
