using System.CommandLine;
using System.Text.Json;
using WrinkleFree.Service.Firewall;
using WrinkleFree.Service.Spec;

namespace WrinkleFree.Cli;

/// <summary>
/// <c>wf export</c>: what a service needs from the machines around it, written for the tool that applies it.
/// <c>wf export firewall SPEC --allow cloudflare|CIDR|@FILE...</c> writes nftables rules that let only the edge reach the
/// endpoint and only the load balancer reach the replicas; <c>wf export kubernetes SPEC</c> the manifests that run the
/// service's daemon in a cluster (ExportCommands.Kubernetes.cs); <c>wf export skypilot SPEC</c> the YAML that
/// <c>sky serve up</c>, <c>sky jobs launch</c> and <c>sky ssh up</c> take (ExportCommands.SkyPilot.cs).
/// </summary>
internal sealed partial class ExportCommands(CliContext context)
{
    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };

    public void Register(RootCommand root)
    {
        var export = new Command("export", "Write a service for the tool that applies it: nftables rules (firewall), manifests a cluster admin reviews and applies (kubernetes), or SkyPilot YAML for sky serve up / sky jobs launch / sky ssh up (skypilot).");
        export.Subcommands.Add(Firewall());
        export.Subcommands.Add(Kubernetes());
        export.Subcommands.Add(SkyPilot());
        root.Subcommands.Add(export);
    }

    private Command Firewall()
    {
        var spec = new Argument<FileInfo>("SPEC") { Description = "Service YAML whose ports the rules protect." };
        var allow = new Option<string[]>("--allow")
        {
            Description = "Who may reach the endpoint: cloudflare (its published ranges, kept with their date), a CIDR or address, or @FILE with one per line. Repeatable.",
            AllowMultipleArgumentsPerToken = true,
            Required = true,
        };
        var balancer = new Option<string[]>("--balancer")
        {
            Description = "Address(es) of the load balancer that may reach the replicas' port (CIDR, address or @FILE); default: this machine only.",
            AllowMultipleArgumentsPerToken = true,
        };
        var port = new Option<int?>("--endpoint-port") { Description = "The endpoint's port when the spec does not fix it (service.load_balancer.port)." };
        var name = new Option<string?>("--name", "-n") { Description = "Service name (default: the spec's name:, else the file's name); names the nftables table." };
        var output = new Option<FileInfo?>("--output", "-o") { Description = "Write the rules to this file instead of standard output." };
        var json = new Option<bool>("--json") { Description = "Print the plan and the rules as JSON." };
        var cmd = new Command("firewall", "Write nftables rules: the endpoint only from the edge (e.g. Cloudflare), the replicas only from the load balancer. Apply with `sudo nft -f FILE`.")
        {
            spec, allow, balancer, port, name, output, json,
        };
        cmd.SetAction((parse, ct) => RunFirewallAsync(parse.GetValue(spec)!, parse.GetValue(allow) ?? [], parse.GetValue(balancer) ?? [],
            parse.GetValue(port), parse.GetValue(name), parse.GetValue(output), parse.GetValue(json), ct));
        return cmd;
    }

    private async Task<int> RunFirewallAsync(FileInfo file, string[] allow, string[] balancers, int? port, string? name, FileInfo? output, bool json, CancellationToken cancellationToken)
    {
        if (!file.Exists)
        {
            context.Error.WriteLine($"error: spec file '{file.FullName}' does not exist");
            return ExitCodes.InvalidInput;
        }

        FirewallPlan plan;
        try
        {
            var yaml = await File.ReadAllTextAsync(file.FullName, cancellationToken);
            // --force: the firewall is written for the machine that will serve, which need not be this one.
            var (service, _) = new ValidateCommand(context).Plan(yaml, file.FullName, name, force: true);
            plan = FirewallPlan.For(service, EdgeRanges.Parse(allow, "--allow"), EdgeRanges.Parse(balancers, "--balancer"), port);
        }
        catch (Exception e) when (e is ServiceSpecException or ArgumentException or IOException)
        {
            context.Error.WriteLine($"error: {e.Message}");
            return ExitCodes.InvalidInput;
        }

        var rules = NftablesRules.Render(plan, context.Time.GetUtcNow());
        if (output is not null)
        {
            await File.WriteAllTextAsync(output.FullName, rules, cancellationToken);
        }

        if (json)
        {
            context.Out.WriteLine(JsonSerializer.Serialize(new
            {
                plan.Service,
                plan.Table,
                Endpoint = new { Host = plan.EndpointHost, Port = plan.EndpointPort, Allowed = plan.Edge.Sources, V4 = plan.Edge.V4.Count, V6 = plan.Edge.V6.Count },
                Replicas = new { Port = plan.ReplicaPort, Allowed = plan.Balancers.Sources },
                plan.Notes,
                Output = output?.FullName,
                Rules = output is null ? rules : null,
            }, Json));
            return ExitCodes.Success;
        }

        foreach (var note in plan.Notes)
            context.Error.WriteLine($"note: {note}");
        if (output is null)
            context.Out.Write(rules);
        else
            context.Out.WriteLine($"wrote {output.FullName}: table inet {plan.Table}; apply with: sudo nft -f {output.FullName}");
        return ExitCodes.Success;
    }
}
