using System.CommandLine;
using WrinkleFree.Cli.Export;
using WrinkleFree.Jobs;
using WrinkleFree.Providers.Ssh.Pools;
using WrinkleFree.Service.Spec;
using YamlDotNet.RepresentationModel;

namespace WrinkleFree.Cli;

internal sealed partial class ExportCommands
{
    // Root keys only a managed-job task has; a file with none of them is read as a service spec.
    private static readonly string[] TaskOnlyKeys = ["train", "checkpoint", "job_recovery"];

    private Command SkyPilot()
    {
        var spec = new Argument<FileInfo>("SPEC") { Description = "A service spec (wf up) or a managed-job task (wf jobs launch)." };
        var output = new Option<DirectoryInfo?>("--out") { HelpName = "DIR", Description = $"Write service.yaml (or task.yaml) into this folder, and {SkyPilotPoolsExport.FileName} with the pools of the spec's ssh tiers; default: the main YAML on standard output." };
        var name = new Option<string?>("--name", "-n") { HelpName = "NAME", Description = "Service or job name (default: the spec's name:, else the file's name)." };
        var kind = new Option<string?>("--as") { Description = "Read SPEC as a service spec or a job task (default: a task when it has train:, checkpoint: or job_recovery: at the top, else a service)." };
        kind.AcceptOnlyFromAmong("service", "job");
        var pools = new Option<FileInfo?>("--pools") { HelpName = "FILE", Description = $"The node pool file the ssh tiers' pools are copied from (default: $WF_HOME/{SshNodePools.FileName}, else ~/.sky/{SshNodePools.FileName}); read with --out only." };
        var cmd = new Command("skypilot", "Write the YAML SkyPilot takes today: a SkyServe service (sky serve up) with the pools of its ssh tiers (sky ssh up), or a managed-job task (sky jobs launch). Keys SkyPilot has no place for are listed in a comment at the top.")
        {
            spec, output, name, kind, pools,
        };
        cmd.SetAction((parse, ct) => RunSkyPilotAsync(parse.GetValue(spec)!, parse.GetValue(output), parse.GetValue(name), parse.GetValue(kind), parse.GetValue(pools), ct));
        return cmd;
    }

    private async Task<int> RunSkyPilotAsync(FileInfo file, DirectoryInfo? output, string? name, string? kind, FileInfo? poolFile, CancellationToken cancellationToken)
    {
        if (!file.Exists)
        {
            context.Error.WriteLine($"error: spec file '{file.FullName}' does not exist");
            return ExitCodes.InvalidInput;
        }

        SkyPilotExport export;
        string? poolsYaml = null;
        try
        {
            var yaml = await File.ReadAllTextAsync(file.FullName, cancellationToken);
            export = (kind ?? Detect(yaml)) == "job"
                ? SkyPilotTaskExport.Build(TaskSpecParser.Parse(yaml, file.FullName), yaml, file.FullName, name)
                : SkyPilotServiceExport.Build(ServiceSpecParser.Parse(yaml, file.FullName), yaml, file.FullName, name);
            if (poolFile is not null && (output is null || export.Pools.Count == 0))
            {
                throw new ExportException(output is null
                    ? $"--pools is read with --out only: the pools are written to DIR/{SkyPilotPoolsExport.FileName}"
                    : $"--pools: {file.Name} has no ssh tiers, so no pools are exported");
            }

            if (output is not null && export.Pools.Count > 0)
            {
                var path = poolFile?.FullName ?? SshNodePools.DefaultPath(context.Home);
                poolsYaml = SkyPilotPoolsExport.Build(export.Pools, path);
            }
        }
        catch (Exception e) when (e is ServiceSpecException or TaskSpecException or SshPoolFileException or ExportException or IOException)
        {
            context.Error.WriteLine($"error: {e.Message}");
            return ExitCodes.InvalidInput;
        }

        if (output is null)
        {
            context.Out.Write(export.Yaml);
            if (export.Pools.Count > 0)
                context.Error.WriteLine($"note: the ssh tiers use pools {string.Join(", ", export.Pools)}: pass --out DIR to write them to {SkyPilotPoolsExport.FileName} for `sky ssh up`");
        }
        else
        {
            Directory.CreateDirectory(output.FullName);
            var main = Path.Combine(output.FullName, export.FileName);
            await File.WriteAllTextAsync(main, export.Yaml, cancellationToken);
            context.Out.WriteLine($"wrote {main}");
            if (poolsYaml is not null)
            {
                var pools = Path.Combine(output.FullName, SkyPilotPoolsExport.FileName);
                await File.WriteAllTextAsync(pools, poolsYaml, cancellationToken);
                context.Out.WriteLine($"wrote {pools}");
            }

            context.Out.WriteLine(export.Kind == SkyPilotKind.Service
                ? (poolsYaml is null ? "" : $"copy {SkyPilotPoolsExport.FileName} to ~/.sky/ and run `sky ssh up`; then ") + $"sky serve up {main} --name {export.Name}"
                : $"sky jobs launch {main}");
        }

        foreach (var key in export.Uncarried)
            context.Error.WriteLine($"not carried: {key}");
        foreach (var note in export.Notes)
            context.Error.WriteLine($"note: {note}");
        return ExitCodes.Success;
    }

    /// <summary>"job" when the document has a key only a task has, else "service" (a malformed file is left to the service parser's error).</summary>
    private static string Detect(string yaml)
    {
        try
        {
            var stream = new YamlStream();
            stream.Load(new StringReader(yaml));
            return stream.Documents.Count > 0 && stream.Documents[0].RootNode is YamlMappingNode root
                && root.Children.Keys.OfType<YamlScalarNode>().Any(k => TaskOnlyKeys.Contains(k.Value))
                ? "job"
                : "service";
        }
        catch (Exception e) when (e is YamlDotNet.Core.YamlException or InvalidOperationException or ArgumentException)
        {
            return "service";
        }
    }
}
