using System.CommandLine;
using System.Text;
using WrinkleFree.Cli.Export;
using WrinkleFree.Service.Spec;

namespace WrinkleFree.Cli;

internal sealed partial class ExportCommands
{
    private Command Kubernetes()
    {
        var spec = new Argument<FileInfo>("SPEC") { Description = "Service YAML to run in the cluster (it becomes the daemon's ConfigMap)." };
        var ns = new Option<string?>("--namespace") { HelpName = "NS", Description = $"Namespace of every object (default: the first kubernetes tier's settings.namespace, else {KubernetesExportOptions.DefaultNamespace})." };
        var image = new Option<string?>("--image") { HelpName = "IMAGE", Description = $"The daemon's image, built from deploy/kubernetes/Dockerfile (default {KubernetesExportOptions.DefaultImage})." };
        var output = new Option<DirectoryInfo?>("--out") { HelpName = "DIR", Description = "Write one file per object kind into this folder, numbered in apply order (kubectl apply -f DIR), instead of one multi-document YAML on standard output." };
        var name = new Option<string?>("--name", "-n") { HelpName = "NAME", Description = "Service name (default: the spec's name:, else the file's name); names the objects and their wrinklefree/service label." };
        var port = new Option<int?>("--endpoint-port") { HelpName = "PORT", Description = $"The endpoint's port when the spec does not fix service.load_balancer.port (default {KubernetesExportOptions.DefaultEndpointPort})." };
        var storage = new Option<string>("--storage") { HelpName = "SIZE", Description = "Size of the daemon's WF_HOME volume (a Kubernetes quantity).", DefaultValueFactory = _ => "10Gi" };
        var force = new Option<bool>("--force") { Description = "Have the daemon's `wf up` run with --force (checks that would refuse the spec become warnings)." };
        var cmd = new Command("kubernetes", "Write the manifests a cluster admin reviews and applies to run this service's daemon in Kubernetes: namespace, RBAC for the kubernetes provider, the spec as a ConfigMap, the daemon's Deployment with its WF_HOME volume, and a Service for the endpoint.")
        {
            spec, ns, image, output, name, port, storage, force,
        };
        cmd.SetAction((parse, ct) => RunKubernetesAsync(parse.GetValue(spec)!, new KubernetesExportOptions
        {
            Namespace = parse.GetValue(ns),
            Image = parse.GetValue(image),
            Name = parse.GetValue(name),
            EndpointPort = parse.GetValue(port),
            Storage = parse.GetValue(storage)!,
            Force = parse.GetValue(force),
        }, parse.GetValue(output), ct));
        return cmd;
    }

    private async Task<int> RunKubernetesAsync(FileInfo file, KubernetesExportOptions options, DirectoryInfo? output, CancellationToken cancellationToken)
    {
        if (!file.Exists)
        {
            context.Error.WriteLine($"error: spec file '{file.FullName}' does not exist");
            return ExitCodes.InvalidInput;
        }

        KubernetesExport export;
        try
        {
            var yaml = await File.ReadAllTextAsync(file.FullName, cancellationToken);
            var spec = ServiceSpecParser.Parse(yaml, file.FullName);
            export = KubernetesManifests.Build(spec, yaml, file.FullName, options);
        }
        catch (Exception e) when (e is ServiceSpecException or ExportException or IOException)
        {
            context.Error.WriteLine($"error: {e.Message}");
            return ExitCodes.InvalidInput;
        }

        var header = $"# wf export kubernetes {file.Name}: service {export.Service} in namespace {export.Namespace}, endpoint port {export.EndpointPort}.\n";
        if (output is null)
        {
            var text = new StringBuilder(header);
            text.Append("# Review, then: kubectl apply -f THIS_FILE (objects in apply order, the namespace first).\n");
            foreach (var manifest in export.Manifests)
                text.Append("---\n").Append(KubernetesManifests.ToYaml(manifest).TrimEnd()).Append('\n');
            context.Out.Write(text.ToString());
        }
        else
        {
            Directory.CreateDirectory(output.FullName);
            foreach (var manifest in export.Manifests)
            {
                var body = header + $"# {manifest.Object.Kind} {manifest.File}: apply the folder in file order (kubectl apply -f DIR).\n"
                    + KubernetesManifests.ToYaml(manifest).TrimEnd() + "\n";
                await File.WriteAllTextAsync(Path.Combine(output.FullName, manifest.File), body, cancellationToken);
            }

            context.Out.WriteLine($"wrote {export.Manifests.Count} files to {output.FullName}; review them, then: kubectl apply -f {output.FullName}");
        }

        foreach (var note in export.Notes)
            context.Error.WriteLine($"note: {note}");
        return ExitCodes.Success;
    }
}
