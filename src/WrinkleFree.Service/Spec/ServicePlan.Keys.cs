namespace WrinkleFree.Service.Spec;

public sealed partial record ServicePlan
{
    /// <summary>
    /// Keys the parser accepts (they are SkyPilot's) that nothing in this build acts on yet. A spec that sets one is refused,
    /// naming it, unless --force, which runs without it: a service never silently ignores what its spec asks for. A key
    /// leaves this list when the issue that builds it lands.
    /// </summary>
    private static IEnumerable<(string KeyPath, string Why)> KeysNotActedOn(ServiceSpec spec)
    {
        const string Cloud = "a cloud tier places replicas by its own settings (infra, zones, instance_type, image, disk_size_gb), not by resources:; write it there (cpus and memory choose the instance type when the tier names none)";
        var resources = spec.Resources;
        if (spec.FileMounts.Count > 0)
            yield return ("file_mounts", "no provider mounts files yet; put what replicas need under workdir: or fetch it in setup:");
        if (resources.Infra is not null)
            yield return ("resources.infra", Cloud);
        if (resources.Cloud is not null)
            yield return ("resources.cloud", Cloud);
        if (resources.Region is not null)
            yield return ("resources.region", Cloud);
        if (resources.Zone is not null)
            yield return ("resources.zone", Cloud);
        if (resources.InstanceType is not null)
            yield return ("resources.instance_type", Cloud);
        if (resources.ImageId is not null)
            yield return ("resources.image_id", Cloud);
        if (resources.DiskSize is not null)
            yield return ("resources.disk_size", Cloud);
        if (resources.DiskTier is not null)
            yield return ("resources.disk_tier", Cloud);
        if (resources.Labels.Count > 0)
            yield return ("resources.labels", Cloud);
        if (resources.Accelerators.Count > 0)
            yield return ("resources.accelerators", "no provider here places replicas by accelerator; replicas run on CPUs");
        if (resources.AnyOf.Count > 0)
            yield return ("resources.any_of", "alternative resources are not chosen between yet; give one cpus/memory request");
        if (resources.Ordered.Count > 0)
            yield return ("resources.ordered", "alternative resources are not chosen between yet; give one cpus/memory request");
        if (resources.JobRecovery is { MaxRestartsOnErrors: > 0 })
            yield return ("resources.job_recovery.max_restarts_on_errors", "a failed replica is replaced without a restart count yet");
    }

    private static void CheckKeysActedOn(ServiceSpec spec, Checks checks)
    {
        foreach (var (keyPath, why) in KeysNotActedOn(spec))
        {
            checks.Refuse(keyPath, $"is accepted but not acted on: {why}", "remove it, or pass --force to run without it", "ignored");
        }
    }
}
