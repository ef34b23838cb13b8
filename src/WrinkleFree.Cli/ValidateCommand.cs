using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using WrinkleFree.Service.Spec;

namespace WrinkleFree.Cli;

/// <summary>
/// <c>wf validate SPEC [--force] [--json]</c>: the plan of a service spec (tiers and their capacities here, replica bounds
/// and autoscaling, readiness probe, the exact command every replica runs, warnings) without starting anything; also what
/// <c>wf up SPEC --dry-run</c> prints. Exit 0 when the spec can run, <see cref="ExitCodes.InvalidInput"/> with the error when not.
/// </summary>
internal sealed class ValidateCommand(CliContext context)
{
    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };

    public void Register(RootCommand root)
    {
        var spec = new Argument<FileInfo>("SPEC") { Description = "Service YAML to check." };
        var name = new Option<string?>("--name", "-n") { Description = "Service name (default: the spec's name:, else the file's name)." };
        var force = ForceOption();
        var json = JsonOption();
        var cmd = new Command("validate", "Check a service spec and print its plan (tiers, capacities, replica command) without starting anything.")
        {
            spec, name, force, json,
        };
        cmd.SetAction((parse, ct) => RunAsync(parse.GetValue(spec)!, parse.GetValue(name), parse.GetValue(force), parse.GetValue(json), ct));
        root.Subcommands.Add(cmd);
    }

    /// <summary>`--force`, as `wf validate` and `wf up` take it.</summary>
    public static Option<bool> ForceOption() => new("--force")
    {
        Description = "Run even when resources do not fit, use_spot finds no spot tier, a tier's provider cannot launch or a key is not acted on: each becomes a warning.",
    };

    /// <summary>`--json`, as `wf validate` and `wf up --dry-run` take it.</summary>
    public static Option<bool> JsonOption() => new("--json") { Description = "Print the plan as JSON." };

    /// <summary>Plans <paramref name="file"/> and prints the plan; exit 0, or <see cref="ExitCodes.InvalidInput"/> with the error.</summary>
    public async Task<int> RunAsync(FileInfo file, string? name, bool force, bool json, CancellationToken cancellationToken)
    {
        if (!file.Exists)
        {
            context.Error.WriteLine($"error: spec file '{file.FullName}' does not exist");
            return ExitCodes.InvalidInput;
        }

        var yaml = await File.ReadAllTextAsync(file.FullName, cancellationToken);
        return Check(yaml, file.FullName, name, force, json);
    }

    /// <summary>Plans <paramref name="yaml"/> from <paramref name="source"/> (null: no file) and prints the plan; exit code as <see cref="RunAsync"/>.</summary>
    public int Check(string yaml, string? source, string? name, bool force, bool json)
    {
        ServicePlan plan;
        try
        {
            (plan, _) = Plan(yaml, source, name, force);
        }
        catch (ServiceSpecException e)
        {
            context.Error.WriteLine($"error: {e.Message}");
            return ExitCodes.InvalidInput;
        }

        Print(plan, source, json);
        return ExitCodes.Success;
    }

    /// <summary>
    /// The plan of <paramref name="yaml"/>, and the YAML to send the daemon: the same text, or the spec rewritten with its
    /// <c>workdir:</c> and <c>service.tls</c> files made absolute (the daemon does not know the spec's folder). Throws <see cref="ServiceSpecException"/>.
    /// </summary>
    public (ServicePlan Plan, string Yaml) Plan(string yaml, string? source, string? name, bool force)
    {
        var plan = ServicePlan.Parse(yaml, source, new ServicePlanContext
        {
            Force = force,
            DefaultModelPath = DefaultModel.PathFor(context.Home),
            SpecDirectory = source is null ? null : Path.GetDirectoryName(Path.GetFullPath(source)),
            Machine = context.Machine,
            Providers = WfProviders.Names,
        }, name);
        var written = ServiceSpecParser.Parse(yaml, source);
        return (plan, written.Workdir == plan.Spec.Workdir && written.Service.Tls == plan.Spec.Service.Tls ? yaml : plan.Spec.ToYaml());
    }

    /// <summary>Warnings on stderr (a script reading stdout sees the plan only), then the plan as text or JSON on stdout.</summary>
    public void Print(ServicePlan plan, string? source, bool json)
    {
        foreach (var warning in plan.Warnings)
        {
            context.Error.WriteLine($"warning: {warning}");
        }

        if (json)
        {
            context.Out.WriteLine(JsonSerializer.Serialize(new
            {
                plan.Name,
                Source = source,
                plan.MinReplicas,
                plan.MaxReplicas,
                plan.Autoscaling,
                plan.Recovery,
                plan.ReadinessProbe,
                Endpoint = new { Host = plan.Spec.Service.LoadBalancer.Host ?? "127.0.0.1", Port = plan.Spec.Service.LoadBalancer.Port },
                Tiers = plan.Tiers.Select(t => new
                {
                    t.Name,
                    t.Provider,
                    Capacity = Capacity(t.Capacity),
                    WrittenCapacity = Capacity(t.WrittenCapacity),
                    t.CostPerHour,
                    t.Spot,
                    t.ScaleToZero,
                    t.Note,
                }),
                // Env names only (values may be secrets, as the spec's AWS keys), except what the plan derived itself.
                Replica = new
                {
                    plan.Replica.Argv,
                    plan.Replica.Run,
                    plan.Replica.Origin,
                    plan.Replica.Setup,
                    plan.Replica.Workdir,
                    Envs = plan.Replica.Envs.Keys.Order(StringComparer.Ordinal),
                    Derived = plan.Replica.DerivedEnvs.ToDictionary(e => e.Key, e => new { Value = plan.Replica.Envs[e.Key], From = e.Value }),
                    plan.Replica.PortHint,
                },
                ProviderEnvs = ReplicaCommandPlan.ProviderEnvs,
                plan.Warnings,
            }, Json));
            return;
        }

        var o = context.Out;
        o.WriteLine($"service {plan.Name}{(source is null ? "" : $" ({source})")}: valid; nothing was started");
        o.WriteLine($"replicas: {plan.MinReplicas} to {plan.MaxReplicas}: {plan.Autoscaling}");
        o.WriteLine($"recovery: {plan.Recovery}");
        o.WriteLine($"readiness probe: {plan.ReadinessProbe}");
        var lb = plan.Spec.Service.LoadBalancer;
        o.WriteLine($"endpoint: {lb.Host ?? "127.0.0.1"}:{(lb.Port is { } p ? p.ToString(CultureInfo.InvariantCulture) : "a free port (kept across restarts)")}"
            + (lb.Host is null ? " (this machine only; service.load_balancer.host opens it)" : ""));
        o.WriteLine();
        var tiers = new CliTable("TIER", "PROVIDER", "CAPACITY", "AS WRITTEN", "COST/HR", "SPOT", "NOTE") { Title = "Tiers, cheapest first when placing" };
        foreach (var t in plan.Tiers)
        {
            tiers.AddRow(t.Name, t.Provider, Capacity(t.Capacity) ?? "unlimited", Capacity(t.WrittenCapacity) ?? "unlimited",
                "$" + t.CostPerHour.ToString("0.00", CultureInfo.InvariantCulture), t.Spot ? "yes" : "no", t.Note ?? "");
        }

        tiers.Write(context);
        o.WriteLine();
        var r = plan.Replica;
        o.WriteLine("Each replica runs:");
        if (r.Argv is { } argv)
        {
            o.WriteLine($"  command: {string.Join(' ', argv.Select(Quote))}  (no shell; wf is the daemon's own, first on PATH)");
        }
        else
        {
            o.WriteLine("  run script (/bin/sh -c):");
            WriteIndented(r.Run!);
        }

        o.WriteLine($"  because: {r.Origin}");
        if (r.Setup is { } setup)
        {
            o.WriteLine("  setup, once before the command (a failure fails the replica with its exit code):");
            WriteIndented(setup);
        }

        o.WriteLine($"  in: {r.Workdir ?? "the daemon's folder (no workdir:)"}");
        var envs = r.Envs.Keys.Order(StringComparer.Ordinal).Select(k => r.DerivedEnvs.TryGetValue(k, out var why) ? $"{k}={r.Envs[k]} ({why})" : k);
        o.WriteLine($"  env: {string.Join(", ", envs.DefaultIfEmpty("(none from the spec)"))}");
        o.WriteLine($"  set per replica by its provider: {string.Join(", ", ReplicaCommandPlan.ProviderEnvs)}; the replica must listen on HOST:PORT");
        o.WriteLine(r.PortHint is { } port
            ? $"  port: {port} asked for (service.ports, else resources.ports); the local provider gives it when free, else a free port; clients use the service endpoint"
            : "  port: a free one per replica; clients use the service endpoint");
        if (plan.Warnings.Count > 0)
        {
            o.WriteLine();
            o.WriteLine($"{plan.Warnings.Count} warning(s), on stderr.");
        }
    }

    private void WriteIndented(string script)
    {
        foreach (var line in script.TrimEnd('\n').Split('\n'))
        {
            context.Out.WriteLine("    " + line);
        }
    }

    private static string? Capacity(int capacity) =>
        capacity == TierSpec.UnlimitedCapacity ? null : capacity.ToString(CultureInfo.InvariantCulture);

    private static string Quote(string word) =>
        word.Length > 0 && word.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '/' or '=' or ':' or ',' or '+')
            ? word
            : "'" + word.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
