using WrinkleFree.Jobs;
using YamlDotNet.RepresentationModel;
using static WrinkleFree.Cli.Export.SkyPilotYaml;

namespace WrinkleFree.Cli.Export;

/// <summary>
/// A managed-job task (src/WrinkleFree.Jobs) as a task YAML for <c>sky jobs launch</c>: <c>resources</c> with
/// <c>job_recovery: {strategy, max_restarts_on_errors}</c> (never the deprecated spot_recovery), envs, workdir, setup,
/// and <c>run:</c> (a <c>train:</c> task runs the same <c>wf train</c> command line <c>wf jobs</c> does).
/// </summary>
public static class SkyPilotTaskExport
{
    // Placement keys the task parser accepts without acting on them (one machine); SkyPilot acts on them, so they are copied as written.
    private static readonly string[] PlacementKeys = ["infra", "cloud", "region", "zone", "instance_type", "disk_size", "disk_tier", "image_id", "labels"];

    /// <summary>Builds the export of <paramref name="task"/>, parsed from <paramref name="yaml"/>.</summary>
    public static SkyPilotExport Build(TaskSpec task, string yaml, string? source, string? name)
    {
        ArgumentNullException.ThrowIfNull(task);
        var written = WrittenKeys.Read(yaml, source);
        var job = name ?? task.Name ?? Path.GetFileNameWithoutExtension(source) ?? "wrinklefree-job";
        var root = new YamlMappingNode { { "name", Str(job) } };

        var resources = new YamlMappingNode();
        if (task.Resources.Cpus is { } cpus)
            resources.Add("cpus", Str(cpus));
        if (task.Resources.Memory is { } memory)
            resources.Add("memory", Str(memory));
        if (task.Resources.Accelerators is { } accelerators)
            resources.Add("accelerators", Str(accelerators));
        if (task.Resources.UseSpot is { } spot)
            resources.Add("use_spot", Bool(spot));
        var resourcesNode = written.Root?.Children.FirstOrDefault(e => e.Key is YamlScalarNode { Value: "resources" }).Value as YamlMappingNode;
        foreach (var key in PlacementKeys)
        {
            if (resourcesNode?.Children.FirstOrDefault(e => e.Key is YamlScalarNode { Value: var k } && k == key).Value is { } value
                && value is not YamlScalarNode { Value: null or "" or "~" or "null" })
                resources.Add(key, value);
        }

        var recovery = new YamlMappingNode { { "strategy", Str(task.Recovery.Strategy) } };
        if (task.Recovery.MaxRestartsOnErrors != 0)
            recovery.Add("max_restarts_on_errors", Int(task.Recovery.MaxRestartsOnErrors));
        resources.Add("job_recovery", recovery);
        root.Add("resources", resources);

        var envs = new YamlMappingNode();
        foreach (var (key, value) in task.Envs)
            envs.Add(key, Str(value));
        if (task.Checkpoint is { } checkpoint && task.Train is null)
        {
            foreach (var (key, value) in TaskCommand.CheckpointEnvironment(checkpoint).Where(e => !task.Envs.ContainsKey(e.Key)))
                envs.Add(key, Str(value));
        }

        if (envs.Children.Count > 0)
            root.Add("envs", envs);
        if (task.Workdir is { } workdir)
            root.Add("workdir", Str(workdir));
        if (task.Setup is { } setup)
            root.Add("setup", Str(setup));
        root.Add("run", Str(task.Train is { } train
            ? SkyPilotServiceExport.ShellJoin(["wf", .. TaskCommand.TrainArguments(train, task.Checkpoint)])
            : task.Run!));

        List<string> header =
        [
            $"Managed job for `sky jobs launch`, exported by `wf export skypilot` from {SkyPilotServiceExport.FileName(source)} (job {job}).",
            "Then: sky jobs launch task.yaml" + (task.Train is not null ? " (the machine needs the full wf, with wf train, on its PATH)" : ""),
            "A restarted attempt starts from scratch: the program reloads its newest checkpoint itself.",
        ];
        SkyPilotServiceExport.AppendUncarried(header, []);
        return new SkyPilotExport { Kind = SkyPilotKind.Job, Name = job, Yaml = Render(header, root) };
    }
}
