using System.Globalization;
using WrinkleFree.Service.Spec;
using YamlDotNet.RepresentationModel;
using static WrinkleFree.Cli.Export.SkyPilotYaml;

namespace WrinkleFree.Cli.Export;

public static partial class SkyPilotServiceExport
{
    private const string SkyConfig = "~/.sky/config.yaml";

    /// <summary>
    /// <c>resources:</c> as written, with <c>infra:</c> (and <c>use_spot</c>) from the first tier unless the spec places
    /// replicas itself (<c>resources.infra</c> or <c>cloud</c>); the pools of every ssh tier.
    /// </summary>
    private static (YamlMappingNode Resources, List<string> Pools) Resources(ServiceSpec spec, WrittenKeys written, List<UncarriedKey> uncarried, List<string> notes)
    {
        var resources = spec.Resources;
        var pools = new List<string>();
        string? infra = null;
        var spot = false;
        var placedBySpec = resources.Infra is not null || resources.Cloud is not null;
        if (written.Has("tiers"))
        {
            for (var i = 0; i < spec.Tiers.Count; i++)
            {
                var tier = spec.Tiers[i];
                var path = $"tiers[{i}]";
                if (tier.Provider == TierProvider.Ssh)
                {
                    var pool = Setting(tier, "pool") ?? throw written.Error($"{path}.settings", $"ssh tier '{tier.Name}' names no pool (settings.pool): SkyPilot's infra is ssh/POOL");
                    if (!pools.Contains(pool))
                        pools.Add(pool);
                }

                if (i > 0 || placedBySpec)
                {
                    uncarried.Add(new UncarriedKey(path, $"tier '{tier.Name}' ({Describe(tier)}): "
                        + (placedBySpec ? "resources.infra/cloud is written, and SkyPilot places every replica by it" : "SkyServe places every replica on one resources: choice, with no cost-ordered spillover to further tiers")));
                    continue;
                }

                infra = InfraOf(tier, path, written, uncarried);
                spot = tier.Spot;
                Drop(written, uncarried, $"{path}.capacity", "SkyServe has no per-infra replica cap; max_replicas bounds the whole service");
                Drop(written, uncarried, $"{path}.cost_per_hour", "SkyPilot prices replicas from its own catalog");
                Drop(written, uncarried, $"{path}.scale_to_zero", "SkyServe scales the whole service to zero with min_replicas: 0, not one tier");
            }
        }

        var node = new YamlMappingNode();
        if (infra is not null)
            node.Add("infra", Str(infra));
        Fields(resources, node, topLevel: true);
        if (spot && resources.UseSpot is null)
            node.Add("use_spot", Bool(true));
        if (written.Has("resources.spot_recovery"))
            notes.Add("resources.spot_recovery is written as resources.job_recovery.strategy: SkyPilot's schema no longer takes spot_recovery");
        return (node, pools);
    }

    /// <summary>SkyPilot's infra for the tier that places replicas: ssh/POOL, k8s[/CONTEXT], the cloud tier's infra; null for local.</summary>
    private static string? InfraOf(TierSpec tier, string path, WrittenKeys written, List<UncarriedKey> uncarried)
    {
        string[] used;
        string? infra;
        string otherSettings;
        switch (tier.Provider)
        {
            case TierProvider.Ssh:
                used = ["pool"];
                infra = $"ssh/{Setting(tier, "pool")}";
                otherSettings = "SkyPilot's SSH node pools take only the hosts and credentials in ssh_node_pools.yaml";
                break;
            case TierProvider.Kubernetes:
                used = ["context"];
                infra = Setting(tier, "context") is { } context ? $"k8s/{context}" : "k8s";
                otherSettings = $"pod settings go in {SkyConfig} (kubernetes.pod_config, kubernetes.context_configs.CONTEXT.namespace), not in the task";
                break;
            case TierProvider.Cloud:
                used = ["infra"];
                infra = Setting(tier, "infra");
                otherSettings = "SkyPilot chooses instances from resources: (cpus, memory, accelerators, instance_type)";
                break;
            default:
                uncarried.Add(new UncarriedKey($"{path}.provider", $"tier '{tier.Name}' is local (the machine running wf up); SkyPilot launches replicas on the infra it chooses from resources:"));
                return null;
        }

        foreach (var key in tier.Settings.Keys.Where(k => !used.Contains(k)))
            Drop(written, uncarried, $"{path}.settings.{key}", otherSettings);
        return infra;
    }

    /// <summary>The resources keys SkyPilot shares with us, as written; any_of and ordered alternatives recursively.</summary>
    private static void Fields(ResourcesSpec r, YamlMappingNode node, bool topLevel)
    {
        if (r.Infra is { } infra)
            node.Add("infra", Str(infra));
        if (r.Cloud is { } cloud)
            node.Add("cloud", Str(cloud));
        if (r.Region is { } region)
            node.Add("region", Str(region));
        if (r.Zone is { } zone)
            node.Add("zone", Str(zone));
        if (r.Cpus is { } cpus)
            node.Add("cpus", Str(cpus));
        if (r.Memory is { } memory)
            node.Add("memory", Str(memory));
        if (r.Accelerators is [var one])
            node.Add("accelerators", Str(one.ToString()));
        else if (r.Accelerators.Count > 1)
            node.Add("accelerators", new YamlSequenceNode(r.Accelerators.Select(a => Str(a.ToString()))));
        if (r.InstanceType is { } instanceType)
            node.Add("instance_type", Str(instanceType));
        if (r.UseSpot is { } useSpot)
            node.Add("use_spot", Bool(useSpot));
        if (r.JobRecovery is { } recovery)
        {
            var map = new YamlMappingNode();
            if (recovery.Strategy is { } strategy)
                map.Add("strategy", Str(strategy));
            if (recovery.MaxRestartsOnErrors != 0)
                map.Add("max_restarts_on_errors", Int(recovery.MaxRestartsOnErrors));
            if (map.Children.Count > 0)
                node.Add("job_recovery", map);
        }

        if (r.DiskSize is { } disk)
            node.Add("disk_size", Int(disk));
        if (r.DiskTier is { } tier)
            node.Add("disk_tier", Str(tier));
        if (r.Ports is [var port])
            node.Add("ports", topLevel && port.Start == port.End ? Int(port.Start) : Str(port.ToString()));
        else if (r.Ports.Count > 1)
            node.Add("ports", new YamlSequenceNode(r.Ports.Select(p => Str(p.ToString()))));
        if (r.ImageId is { } image)
            node.Add("image_id", Str(image));
        if (r.Labels.Count > 0)
            node.Add("labels", Value(r.Labels.ToDictionary(l => l.Key, l => (object?)l.Value)));
        if (r.AnyOf.Count > 0)
            node.Add("any_of", Alternatives(r.AnyOf));
        if (r.Ordered.Count > 0)
            node.Add("ordered", Alternatives(r.Ordered));
    }

    private static YamlSequenceNode Alternatives(IEnumerable<ResourcesSpec> choices) => new(choices.Select(c =>
    {
        var node = new YamlMappingNode();
        Fields(c, node, topLevel: false);
        return node;
    }));

    private static string? Setting(TierSpec tier, string key) =>
        tier.Settings.TryGetValue(key, out var value) && value is not null ? Convert.ToString(value, CultureInfo.InvariantCulture) : null;

    private static string Describe(TierSpec tier) =>
        $"{ServicePlan.ProviderName(tier)}, capacity {(tier.IsUnlimited ? "unlimited" : tier.Capacity.ToString(CultureInfo.InvariantCulture))}, "
        + $"${tier.CostPerHour.ToString("0.###", CultureInfo.InvariantCulture)}/h{(tier.Spot ? ", spot" : "")}";
}
