using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Spectre.Console;
using WrinkleFree.Platform.Home;
using WrinkleFree.Platform.Processes;
using WrinkleFree.Service.Daemon;
using WrinkleFree.Service.Spec;

namespace WrinkleFree.Cli;

/// <summary>
/// <c>wf up|status|update|logs|down</c>: the spillover service through the background daemon's admin API (see
/// <see cref="DaemonCommands"/> for the daemon itself, which `wf up` starts when none runs).
/// </summary>
internal sealed class ServiceCommands(CliContext context)
{
    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };

    public void Register(RootCommand root)
    {
        root.Subcommands.Add(Up());
        root.Subcommands.Add(Status());
        root.Subcommands.Add(Update());
        root.Subcommands.Add(Logs());
        root.Subcommands.Add(Down());
    }

    private Command Up()
    {
        var spec = new Argument<FileInfo?>("SPEC") { Description = "Service YAML (SkyServe's service: section plus tiers:). Default: a local service of the default model.", Arity = ArgumentArity.ZeroOrOne };
        var name = new Option<string?>("--name", "-n") { Description = "Service name (default: the spec's name:, else the spec file's name, else wrinklefree)." };
        var detach = new Option<bool>("--detach", "-d") { Description = "Return once the service is created instead of waiting for a ready replica." };
        var dryRun = new Option<bool>("--dry-run") { Description = "Print the plan (as `wf validate`) and start nothing." };
        var force = ValidateCommand.ForceOption();
        var json = ValidateCommand.JsonOption();
        var timeout = new Option<int>("--timeout") { Description = "Seconds to wait for a ready replica before giving up with the replicas' last failure (exit 1); the service keeps trying.", DefaultValueFactory = _ => 900 };
        var cmd = new Command("up", "Start a service: one endpoint, replicas on the cheapest tiers first. Running it again with the same spec only prints the endpoint.") { spec, name, detach, dryRun, force, json, timeout };
        cmd.SetAction((parse, ct) => Guard(async () =>
        {
            var file = parse.GetValue(spec);
            var planner = new ValidateCommand(context);
            if (parse.GetValue(dryRun))
            {
                return file is null
                    ? planner.Check(DefaultSpec(DefaultModel.PathFor(context.Home)), null, parse.GetValue(name), parse.GetValue(force), parse.GetValue(json))
                    : await planner.RunAsync(file, parse.GetValue(name), parse.GetValue(force), parse.GetValue(json), ct);
            }

            string yaml;
            string? source = null;
            if (file is null)
            {
                yaml = DefaultSpec(DefaultModel.Ensure(context.Home, context.Out));
            }
            else
            {
                if (!file.Exists)
                    return Fail($"spec file '{file.FullName}' does not exist");
                yaml = await File.ReadAllTextAsync(file.FullName, ct);
                source = file.FullName;
            }
            // Spec and plan errors are reported here, with line and column, before any daemon is started for them; the
            // daemon makes the same checks, with the same --force.
            var (plan, sent) = planner.Plan(yaml, source, parse.GetValue(name), parse.GetValue(force));
            foreach (var warning in plan.Warnings)
                context.Error.WriteLine($"warning: {warning}");
            var serviceName = plan.Name;

            using var client = await EnsureDaemonAsync(ct);
            var view = await client.CreateAsync(new CreateServiceRequest { Name = serviceName, SpecYaml = sent, SourceName = source, Force = parse.GetValue(force) }, ct);
            context.Out.WriteLine(view.Existing
                ? $"service {view.Name} is already up with this spec ({view.Status}): {view.Endpoint}"
                : $"service {view.Name}: {view.Endpoint}");
            context.Out.WriteLine(AuthLine(view));
            if (parse.GetValue(detach))
                return ExitCodes.Success;
            var seconds = parse.GetValue(timeout);
            if (seconds < 1)
                return Fail($"--timeout must be at least 1 second, got {seconds}");
            return await WaitReadyAsync(client, view, TimeSpan.FromSeconds(seconds), ct);
        }));
        return cmd;
    }

    private Command Status()
    {
        var name = new Argument<string?>("NAME") { Description = "Service to show (default: all).", Arity = ArgumentArity.ZeroOrOne };
        var all = new Option<bool>("--all", "-a") { Description = "Show every service's replicas too." };
        var json = new Option<bool>("--json") { Description = "Print machine-readable JSON (services with endpoint and replicas: id, tier, status, endpoint, cost_per_hour, pid)." };
        var web = new Option<bool>("--web") { Description = "Print a one-time link (good for 5 minutes) that opens the status page in a browser." };
        var cmd = new Command("status", "Show services and their replicas, tiers, costs and endpoints.") { name, all, json, web };
        cmd.SetAction((parse, ct) => Guard(async () =>
        {
            using var client = await ConnectAsync(ct);
            if (client is null)
                return NoDaemon();
            if (parse.GetValue(web))
            {
                context.Out.WriteLine($"status page (this link works once, within 5 minutes): {await client.StatusLinkAsync(ct)}");
                return ExitCodes.Success;
            }
            var one = parse.GetValue(name);
            IReadOnlyList<ServiceView> services = one is null ? await client.ListAsync(ct) : [await client.GetAsync(one, ct)];
            if (parse.GetValue(json))
            {
                context.Out.WriteLine(JsonSerializer.Serialize(services, Json));
                return ExitCodes.Success;
            }
            RenderStatus(services, one is not null || parse.GetValue(all));
            return ExitCodes.Success;
        }));
        return cmd;
    }

    private Command Update()
    {
        var name = new Argument<string>("NAME") { Description = "Service to update." };
        var spec = new Argument<FileInfo?>("SPEC") { Description = "New service YAML (rolling update when what replicas run changed).", Arity = ArgumentArity.ZeroOrOne };
        var min = new Option<int?>("--min-replicas") { Description = "New min_replicas (max_replicas follows when it would be below)." };
        var cmd = new Command("update", "Change a service: `wf update NAME --min-replicas N` or `wf update NAME SPEC`.") { name, spec, min };
        cmd.SetAction((parse, ct) => Guard(async () =>
        {
            var file = parse.GetValue(spec);
            var minReplicas = parse.GetValue(min);
            if ((file is null) == (minReplicas is null))
                return Fail("give either a SPEC file or --min-replicas N");
            UpdateServiceRequest request;
            if (file is not null)
            {
                if (!file.Exists)
                    return Fail($"spec file '{file.FullName}' does not exist");
                var yaml = await File.ReadAllTextAsync(file.FullName, ct);
                // The daemon does not know the spec's folder: a relative workdir: is sent made absolute, as by `wf up`.
                var (_, sent) = new ValidateCommand(context).Plan(yaml, file.FullName, null, force: true);
                request = new UpdateServiceRequest { SpecYaml = sent, SourceName = file.FullName };
            }
            else
            {
                request = new UpdateServiceRequest { MinReplicas = minReplicas };
            }
            using var client = await ConnectAsync(ct);
            if (client is null)
                return NoDaemon();
            var view = await client.UpdateAsync(parse.GetValue(name)!, request, ct);
            context.Out.WriteLine($"service {view.Name} updated to version {view.Version}" + view.Rollout switch
            {
                "surge" => ": new replicas start beside the old ones, which leave as the new ones become ready",
                "in_place" => ": every tier is full, so replicas roll in place: one old replica stops before each new one starts (the service runs one replica short meanwhile)",
                _ => ": the running replicas serve it as they are",
            });
            return ExitCodes.Success;
        }));
        return cmd;
    }

    private Command Logs()
    {
        var name = new Argument<string>("NAME") { Description = "Service." };
        var replica = new Argument<int?>("REPLICA") { Description = "Replica id (default: the first one).", Arity = ArgumentArity.ZeroOrOne };
        var follow = new Option<bool>("--follow", "-f") { Description = "Keep printing new lines until the replica exits or Ctrl-C." };
        var tail = new Option<int?>("--tail") { Description = "Only the last N lines." };
        var cmd = new Command("logs", "Print a replica's output.") { name, replica, follow, tail };
        cmd.SetAction((parse, ct) => Guard(async () =>
        {
            using var client = await ConnectAsync(ct);
            if (client is null)
                return NoDaemon();
            try
            {
                await foreach (var line in client.LogsAsync(parse.GetValue(name)!, parse.GetValue(replica), parse.GetValue(tail), parse.GetValue(follow), ct))
                    context.Out.WriteLine(line);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                // Ctrl-C ends a follow.
            }
            return ExitCodes.Success;
        }));
        return cmd;
    }

    private Command Down()
    {
        var name = new Argument<string>("NAME") { Description = "Service to remove." };
        var cmd = new Command("down", "Drain and stop every replica of a service, then remove it.") { name };
        cmd.SetAction((parse, ct) => Guard(async () =>
        {
            using var client = await ConnectAsync(ct);
            if (client is null)
                return NoDaemon();
            var service = parse.GetValue(name)!;
            await client.DeleteAsync(service, ct);
            context.Out.WriteLine($"service {service} is down");
            return ExitCodes.Success;
        }));
        return cmd;
    }

    private async Task<DaemonClient?> ConnectAsync(CancellationToken cancellationToken) =>
        await DaemonClient.ConnectAsync(context.Home, cancellationToken);

    /// <summary>
    /// Connects to the running daemon, starting its supervisor detached (own session; the daemon's output goes to
    /// logs/daemon.log) if none answers.
    /// </summary>
    private async Task<DaemonClient> EnsureDaemonAsync(CancellationToken cancellationToken)
    {
        if (await ConnectAsync(cancellationToken) is { } running)
            return running;
        var home = context.Home;
        var log = Path.Combine(home, "logs", "daemon.log");
        // Owner-only from here: the supervisor's log is opened by this process, and the supervisor inherits the mask.
        PrivateFiles.Secure(home);
        WfHome.CreatePrivateDirectory(Path.GetDirectoryName(log)!);
        var (exe, prefix) = SelfCommand();
        // The daemon must not hold our stdout (a caller reading it to the end would wait for the daemon) or our session.
        // The supervisor starts the daemon and starts it again whenever it dies; it logs to logs/supervisor.log.
        using (SessionProcess.Start([exe, .. prefix, "daemon", "supervise"], Path.Combine(home, "logs", "supervisor.log"), environment: [new(WfHome.Variable, home)], name: "wf-supervisor"))
        {
        }
        var started = context.Time.GetTimestamp();
        while (context.Time.GetElapsedTime(started) < TimeSpan.FromSeconds(60))
        {
            await Task.Delay(TimeSpan.FromMilliseconds(200), context.Time, cancellationToken);
            if (await ConnectAsync(cancellationToken) is { } daemon)
                return daemon;
        }
        throw new DaemonApiException(0, "no_daemon", $"the wf daemon did not start within 60 s; see {log}");
    }

    /// <summary>How to run this very `wf`: the apphost itself, or `dotnet wf.dll`.</summary>
    internal static (string Exe, string[] Prefix) SelfCommand()
    {
        var process = Environment.ProcessPath ?? "dotnet";
        return Path.GetFileNameWithoutExtension(process) == "dotnet"
            ? (process, [WfSelf.EntryDll])
            : (process, []);
    }

    /// <summary>The service `wf up` runs without a spec: one local replica of <paramref name="modelPath"/>.</summary>
    private static string DefaultSpec(string modelPath) => $"""
        name: {ServicePlan.DefaultName}
        service:
          readiness_probe:
            path: /health
            initial_delay_seconds: 300
            endpoint_probe_interval_seconds: 2
          replicas: 1
        envs:
          BACKEND: bitnet
          MODEL_PATH: {JsonSerializer.Serialize(modelPath)}
        tiers:
          - name: local
            provider: local
            cost_per_hour: 0
        """;

    /// <summary>
    /// Waits for a first ready replica, printing each replica failure as it happens; gives up (exit 1, the last failure and
    /// where to look) when the service is FAILED or <paramref name="timeout"/> passes.
    /// </summary>
    private async Task<int> WaitReadyAsync(DaemonClient client, ServiceView view, TimeSpan timeout, CancellationToken ct)
    {
        // A service with min_replicas 0 has no replica until its first request: waiting for one here would never end.
        static bool Idle(ServiceView v) => v.ReadyReplicas == 0 && v.TargetReplicas == 0 && v.Status == "NO_REPLICA";
        var started = context.Time.GetTimestamp();
        // Failed replicas are cleaned up within a tick, so failures are read from the service's latest one.
        var reported = view.LastFailure;
        var timedOut = false;
        await context.Console.Status().StartAsync($"waiting for a ready replica of {view.Name}...", async spinner =>
        {
            while (view.ReadyReplicas == 0 && !Idle(view) && view.Status != "FAILED")
            {
                if (context.Time.GetElapsedTime(started) >= timeout)
                {
                    timedOut = true;
                    return;
                }
                await Task.Delay(TimeSpan.FromMilliseconds(500), context.Time, ct);
                view = await client.GetAsync(view.Name, ct);
                if (view.LastFailure is { } failure && failure != reported)
                {
                    reported = failure;
                    var retry = view.NextLaunchAt is { } at && at > context.Time.GetUtcNow()
                        ? $"; next launch in {CliFormat.Duration(at - context.Time.GetUtcNow())}" : "";
                    var logs = view.LastFailedReplica is { } id ? $" (`wf logs {view.Name} {id}`)" : "";
                    context.Error.WriteLine($"{failure}{retry}{logs}");
                }
                var states = string.Join(", ", view.Replicas.Select(r => $"{r.Id} {r.Status}"));
                spinner.Status($"waiting for a ready replica of {view.Name} ({(states.Length > 0 ? states : view.Status)})...");
            }
        });
        if (view.Status == "FAILED")
            return Fail($"service {view.Name} FAILED: {view.Failure ?? view.LastFailure}. `wf events {view.Name}` shows each attempt; after fixing the cause, `wf update {view.Name} SPEC` tries again (or `wf down {view.Name}`)");
        if (timedOut)
        {
            var last = view.LastFailure is { } failure ? $"; last failure: {failure}" : "";
            var states = string.Join(", ", view.Replicas.Select(r => $"{r.Id} {r.Status}"));
            return Fail($"no ready replica of {view.Name} after {CliFormat.Duration(timeout)} ({(states.Length > 0 ? states : view.Status)}){last}. The service keeps trying: `wf status {view.Name}`, `wf logs {view.Name}`");
        }
        context.Out.WriteLine(Idle(view)
            ? $"service {view.Name} scales from zero: its first request at {view.Endpoint} starts a replica and waits for it"
            : $"service {view.Name} is READY at {view.Endpoint}");
        return ExitCodes.Success;
    }

    /// <summary>
    /// The services, then each service's replicas in a table of its own (no SERVICE column, so the columns that matter stay
    /// narrow): boxed in a terminal, plain aligned columns in a pipe (see <see cref="CliTable"/>).
    /// </summary>
    private void RenderStatus(IReadOnlyList<ServiceView> services, bool withReplicas)
    {
        if (services.Count == 0)
        {
            context.Out.WriteLine("No services. `wf up SPEC` starts one.");
            return;
        }
        var now = context.Time.GetUtcNow();
        var tables = new List<CliTable> { new("NAME", "VERSION", "UPTIME", "STATUS", "REPLICAS", "ENDPOINT", "QPS", "COST/HR") };
        foreach (var s in services)
        {
            tables[0].AddRow(s.Name, s.Version.ToString(CultureInfo.InvariantCulture), CliFormat.Duration(now - s.CreatedAt), s.Status,
                $"{s.ReadyReplicas}/{s.Replicas.Count}", s.Endpoint, s.Qps.ToString("0.##", CultureInfo.InvariantCulture), Dollars(s.CostPerHour));
        }
        if (withReplicas)
        {
            foreach (var s in services)
            {
                var replicas = new CliTable("ID", "VER", "TIER", "COST/HR", "STATUS", "ENDPOINT", "PID", "LAUNCHED") { Title = $"Replicas of {s.Name}" };
                foreach (var r in s.Replicas)
                {
                    replicas.AddRow(r.Id.ToString(CultureInfo.InvariantCulture), r.Version.ToString(CultureInfo.InvariantCulture), r.Tier, Dollars(r.CostPerHour), r.Status,
                        r.Endpoint ?? "-", r.Pid?.ToString(CultureInfo.InvariantCulture) ?? "-", CliFormat.Duration(now - r.Launched) + " ago");
                }
                tables.Add(replicas);
            }
        }
        CliTable.WriteAll(context, tables);
        foreach (var s in services)
        {
            context.Out.WriteLine($"{s.Name} {AuthLine(s)}");
            if (s.Failure is { } failure)
                context.Out.WriteLine($"{s.Name} FAILED: {failure}");
            else if (s.LastFailure is { } last)
                context.Out.WriteLine($"{s.Name} last failure: {last}" + (s.NextLaunchAt is { } at && at > now ? $" (next launch in {CliFormat.Duration(at - now)})" : ""));
            if (withReplicas)
            {
                foreach (var r in s.Replicas.Where(r => r.FailureReason is not null))
                    context.Out.WriteLine($"  replica {r.Id} {r.Status}: {r.FailureReason} (`wf logs {s.Name} {r.Id}`)");
            }
        }
    }

    /// <summary>Whether the service needs a key; an open one says so loudly, with the command that closes it.</summary>
    private static string AuthLine(ServiceView view) => view.Auth == "open"
        ? $"auth: open — create a key with wf keys create --service {view.Name}"
        : "auth: API keys required (wf keys list)";

    private static string Dollars(double perHour) => "$" + perHour.ToString("0.00", CultureInfo.InvariantCulture);

    private Task<int> Guard(Func<Task<int>> body) => DaemonCalls.GuardAsync(context, body);

    private int NoDaemon() => DaemonCalls.NoDaemon(context);

    private int Fail(string message) => DaemonCalls.Fail(context, message);
}
