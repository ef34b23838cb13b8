using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Spectre.Console;
using WrinkleFree.Inference.Gguf;
using WrinkleFree.Inference.Models;
using WrinkleFree.Platform.Home;
using WrinkleFree.Platform.Processes;
using WrinkleFree.Service.Daemon;
using WrinkleFree.Service.Spec;

namespace WrinkleFree.Cli;

/// <summary>
/// <c>wf up|status|update|logs|down</c>: the spillover service through the background daemon's admin API, and the hidden
/// <c>wf daemon</c> that `wf up` starts when none runs.
/// </summary>
internal static class ServiceCommands
{
    private const string DefaultServiceName = "wrinklefree";

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };

    public static void Register(RootCommand root)
    {
        root.Subcommands.Add(Up());
        root.Subcommands.Add(Status());
        root.Subcommands.Add(Update());
        root.Subcommands.Add(Logs());
        root.Subcommands.Add(Down());
        root.Subcommands.Add(DaemonCommand());
    }

    private static Command Up()
    {
        var spec = new Argument<FileInfo?>("SPEC") { Description = "Service YAML (SkyServe's service: section plus tiers:). Default: a local service of the default model.", Arity = ArgumentArity.ZeroOrOne };
        var name = new Option<string?>("--name", "-n") { Description = "Service name (default: the spec's name:, else wrinklefree)." };
        var detach = new Option<bool>("--detach", "-d") { Description = "Return once the service is created instead of waiting for a ready replica." };
        var cmd = new Command("up", "Start a service: one endpoint, replicas on the cheapest tiers first.") { spec, name, detach };
        cmd.SetAction((parse, ct) => Guard(async () =>
        {
            var file = parse.GetValue(spec);
            string yaml;
            string? source = null;
            if (file is null)
            {
                yaml = DefaultSpec(DefaultModelPath());
            }
            else
            {
                if (!file.Exists)
                    return Fail($"spec file '{file.FullName}' does not exist");
                yaml = await File.ReadAllTextAsync(file.FullName, ct);
                source = file.FullName;
            }
            // Spec errors are reported here, with line and column, before any daemon is started for them.
            var parsed = ServiceSpecParser.Parse(yaml, source);
            var serviceName = parse.GetValue(name) ?? parsed.Name ?? DefaultServiceName;

            using var client = await EnsureDaemonAsync(ct);
            var view = await client.CreateAsync(new CreateServiceRequest { Name = serviceName, SpecYaml = yaml, SourceName = source }, ct);
            Console.WriteLine($"service {view.Name}: {view.Endpoint}");
            if (parse.GetValue(detach))
                return 0;
            // A service with min_replicas 0 has no replica until its first request: waiting for one here would never end.
            static bool Idle(ServiceView v) => v.ReadyReplicas == 0 && v.TargetReplicas == 0 && v.Status == "NO_REPLICA";
            await AnsiConsole.Status().StartAsync($"waiting for a ready replica of {view.Name}...", async context =>
            {
                while (view.ReadyReplicas == 0 && !Idle(view))
                {
                    await Task.Delay(500, ct);
                    view = await client.GetAsync(serviceName, ct);
                    var states = string.Join(", ", view.Replicas.Select(r => $"{r.Id} {r.Status}"));
                    context.Status($"waiting for a ready replica of {view.Name} ({(states.Length > 0 ? states : view.Status)})...");
                }
            });
            Console.WriteLine(Idle(view)
                ? $"service {view.Name} scales from zero: its first request at {view.Endpoint} starts a replica and waits for it"
                : $"service {view.Name} is READY at {view.Endpoint}");
            return 0;
        }));
        return cmd;
    }

    private static Command Status()
    {
        var name = new Argument<string?>("NAME") { Description = "Service to show (default: all).", Arity = ArgumentArity.ZeroOrOne };
        var all = new Option<bool>("--all", "-a") { Description = "Show every service's replicas too." };
        var json = new Option<bool>("--json") { Description = "Print machine-readable JSON (services with endpoint and replicas: id, tier, status, endpoint, cost_per_hour, pid)." };
        var cmd = new Command("status", "Show services and their replicas, tiers, costs and endpoints.") { name, all, json };
        cmd.SetAction((parse, ct) => Guard(async () =>
        {
            using var client = await ConnectAsync(ct);
            if (client is null)
                return NoDaemon();
            var one = parse.GetValue(name);
            IReadOnlyList<ServiceView> services = one is null ? await client.ListAsync(ct) : [await client.GetAsync(one, ct)];
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(services, Json));
                return 0;
            }
            RenderStatus(services, one is not null || parse.GetValue(all));
            return 0;
        }));
        return cmd;
    }

    private static Command Update()
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
                ServiceSpecParser.Parse(yaml, file.FullName);
                request = new UpdateServiceRequest { SpecYaml = yaml, SourceName = file.FullName };
            }
            else
            {
                request = new UpdateServiceRequest { MinReplicas = minReplicas };
            }
            using var client = await ConnectAsync(ct);
            if (client is null)
                return NoDaemon();
            var view = await client.UpdateAsync(parse.GetValue(name)!, request, ct);
            Console.WriteLine($"service {view.Name} updated to version {view.Version}");
            return 0;
        }));
        return cmd;
    }

    private static Command Logs()
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
                    Console.WriteLine(line);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                // Ctrl-C ends a follow.
            }
            return 0;
        }));
        return cmd;
    }

    private static Command Down()
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
            Console.WriteLine($"service {service} is down");
            return 0;
        }));
        return cmd;
    }

    private static Command DaemonCommand()
    {
        var cmd = new Command("daemon", "Run the service daemon in the foreground (wf up starts it in the background).") { Hidden = true };
        // Synchronous on purpose, as `wf replica`: System.CommandLine would force-exit an async action 2 s after SIGTERM.
        cmd.SetAction(_ => RunDaemonAsync().GetAwaiter().GetResult());
        return cmd;
    }

    private static async Task<int> RunDaemonAsync()
    {
        using var stop = new CancellationTokenSource();
        void OnSignal(PosixSignalContext context)
        {
            context.Cancel = true;
            stop.Cancel();
        }

        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using var loggers = LoggerFactory.Create(b => b.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "yyyy-MM-dd HH:mm:ss.fff ";
        }).SetMinimumLevel(LogLevel.Information).AddFilter("Microsoft.AspNetCore", LogLevel.Warning));
        var home = WfHome.Path;
        ServiceDaemon daemon;
        try
        {
            daemon = await ServiceDaemon.StartAsync(new DaemonOptions { Home = home, ReplicaEnvironment = ReplicaEnvironment(home) }, TimeProvider.System, loggers, stop.Token);
        }
        catch (IOException e)
        {
            // Most often another daemon holds the lock: it serves, so this one is not needed.
            Console.Error.WriteLine($"wf daemon: not starting: {e.Message}");
            return 1;
        }
        await using (daemon)
        {
            Console.WriteLine($"wf daemon: admin API on {daemon.Info.AdminUrl}");
            try
            {
                await Task.Delay(Timeout.Infinite, stop.Token);
            }
            catch (OperationCanceledException)
            {
                // SIGTERM: stop the controllers; replicas keep serving until the next daemon adopts them.
            }
        }
        return 0;
    }

    /// <summary>Puts a `wf` shim first on the replicas' PATH, so specs can run `wf replica` wherever wf is installed.</summary>
    private static Dictionary<string, string> ReplicaEnvironment(string home)
    {
        var (exe, prefix) = SelfCommand();
        var bin = CommandShim.Write(Path.Combine(home, "bin"), "wf", prefix.Prepend(exe));
        return new Dictionary<string, string>
        {
            ["PATH"] = bin + ":" + (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin"),
            ["WF_HOME"] = home,
        };
    }

    private static async Task<DaemonClient?> ConnectAsync(CancellationToken cancellationToken) =>
        await DaemonClient.ConnectAsync(WfHome.Path, cancellationToken);

    /// <summary>Connects to the running daemon, starting one detached (own session, output to logs/daemon.log) if none answers.</summary>
    private static async Task<DaemonClient> EnsureDaemonAsync(CancellationToken cancellationToken)
    {
        if (await ConnectAsync(cancellationToken) is { } running)
            return running;
        var home = WfHome.Path;
        var log = Path.Combine(home, "logs", "daemon.log");
        Directory.CreateDirectory(Path.GetDirectoryName(log)!);
        var (exe, prefix) = SelfCommand();
        // The daemon must not hold our stdout (a caller reading it to the end would wait for the daemon) or our session.
        using (SessionProcess.Start([exe, .. prefix, "daemon"], log, environment: [new(WfHome.Variable, home)], name: "wf-daemon"))
        {
        }
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            await Task.Delay(200, cancellationToken);
            if (await ConnectAsync(cancellationToken) is { } started)
                return started;
        }
        throw new DaemonApiException(0, "no_daemon", $"the wf daemon did not start within 60 s; see {log}");
    }

    /// <summary>How to run this very `wf`: the apphost itself, or `dotnet wf.dll`.</summary>
    private static (string Exe, string[] Prefix) SelfCommand()
    {
        var process = Environment.ProcessPath ?? "dotnet";
        return Path.GetFileNameWithoutExtension(process) == "dotnet"
            ? (process, [WfSelf.EntryDll])
            : (process, []);
    }

    private static string DefaultModelPath()
    {
        var trained = Path.GetFullPath(Path.Combine("models", "wrinklefree-tiny.gguf"));
        if (File.Exists(trained))
            return trained;
        var synthetic = Path.Combine(WfHome.Path, "models", "synthetic-tiny-tq2_0.gguf");
        if (!File.Exists(synthetic))
        {
            // GgufWriter writes atomically: a second `wf up` never sees half a model.
            SyntheticModel.Write(synthetic, SyntheticShape.Tiny, GgmlType.TQ2_0, seed: 1);
            Console.WriteLine($"no models/wrinklefree-tiny.gguf here: serving a synthetic tiny model ({synthetic})");
        }
        return synthetic;
    }

    private static string DefaultSpec(string modelPath)
    {
        var (exe, prefix) = SelfCommand();
        var command = string.Join(' ', prefix.Prepend(exe).Append("replica").Select(w => "'" + w.Replace("'", "'\\''", StringComparison.Ordinal) + "'"));
        return $"""
            name: {DefaultServiceName}
            service:
              readiness_probe:
                path: /health
                initial_delay_seconds: 300
                endpoint_probe_interval_seconds: 2
              replicas: 1
            envs:
              BACKEND: bitnet
              MODEL_PATH: {JsonSerializer.Serialize(modelPath)}
            run: |
              exec {command}
            tiers:
              - name: local
                provider: local
                cost_per_hour: 0
            """;
    }

    /// <summary>
    /// A terminal gets Spectre's boxed tables at its own width. A pipe or file gets plain text no wider than 80 columns,
    /// whatever terminal the pipe ends in, so `wf status | grep`, CI logs and mail stay readable (scripts use --json).
    /// </summary>
    private static void RenderStatus(IReadOnlyList<ServiceView> services, bool withReplicas)
    {
        if (services.Count == 0)
        {
            Console.WriteLine("No services. `wf up SPEC` starts one.");
            return;
        }
        string[] serviceHeaders = ["NAME", "VERSION", "UPTIME", "STATUS", "REPLICAS", "ENDPOINT", "QPS", "COST/HR"];
        var serviceRows = services.Select(s => new[]
        {
            s.Name, s.Version.ToString(CultureInfo.InvariantCulture), CliFormat.Duration(DateTimeOffset.UtcNow - s.CreatedAt), s.Status,
            $"{s.ReadyReplicas}/{s.Replicas.Count}", s.Endpoint, s.Qps.ToString("0.##", CultureInfo.InvariantCulture), Dollars(s.CostPerHour),
        }).ToList();
        string[] ReplicaRow(ReplicaView r) =>
        [
            r.Id.ToString(CultureInfo.InvariantCulture), r.Version.ToString(CultureInfo.InvariantCulture), r.Tier, Dollars(r.CostPerHour), r.Status,
            r.Endpoint ?? "-", r.Pid?.ToString(CultureInfo.InvariantCulture) ?? "-", CliFormat.Duration(DateTimeOffset.UtcNow - r.Launched) + " ago",
        ];

        if (!Console.IsOutputRedirected)
        {
            AnsiConsole.Write(SpectreTable(serviceHeaders, serviceRows));
            if (withReplicas)
            {
                var rows = services.SelectMany(s => s.Replicas.Select(r => ReplicaRow(r).Prepend(s.Name).ToArray())).ToList();
                AnsiConsole.Write(SpectreTable(["SERVICE", "ID", "VERSION", "TIER", "COST/HR", "STATUS", "ENDPOINT", "PID", "LAUNCHED"], rows));
            }
            return;
        }

        foreach (var line in PlainTable.Render(serviceHeaders, serviceRows, PlainTable.Width))
            Console.WriteLine(line);
        if (!withReplicas)
            return;
        // One table per service instead of a SERVICE column: the columns that matter then fit in 80.
        foreach (var s in services)
        {
            Console.WriteLine();
            Console.WriteLine($"Replicas of {s.Name}:");
            foreach (var line in PlainTable.Render(["ID", "VER", "TIER", "COST/HR", "STATUS", "ENDPOINT", "PID", "LAUNCHED"], [.. s.Replicas.Select(ReplicaRow)], PlainTable.Width))
                Console.WriteLine(line);
        }
    }

    private static Table SpectreTable(string[] headers, IEnumerable<string[]> rows)
    {
        var table = new Table().AddColumns(headers);
        foreach (var row in rows)
            table.AddRow([.. row.Select(Markup.Escape)]);
        return table;
    }

    private static string Dollars(double perHour) => "$" + perHour.ToString("0.00", CultureInfo.InvariantCulture);

    /// <summary>
    /// Plain-text tables for pipes: columns aligned with two-space gaps when the whole row fits the width; otherwise one
    /// block per row ("HEADER value" pairs packed into lines), so no cell is cut or truncated.
    /// </summary>
    private static class PlainTable
    {
        public const int Width = 80;
        private const string Gap = "  ";

        public static IEnumerable<string> Render(string[] headers, IReadOnlyList<string[]> rows, int width)
        {
            var widths = headers.Select((h, i) => rows.Select(r => r[i].Length).Append(h.Length).Max()).ToArray();
            if (widths.Sum() + Gap.Length * (widths.Length - 1) <= width)
            {
                yield return Line(headers, widths);
                foreach (var row in rows)
                    yield return Line(row, widths);
                yield break;
            }
            foreach (var row in rows)
            {
                var line = new System.Text.StringBuilder();
                for (var i = 0; i < row.Length; i++)
                {
                    var pair = headers[i] + " " + row[i];
                    if (i > 0)
                    {
                        if (line.Length + Gap.Length + pair.Length > width)
                        {
                            yield return line.ToString();
                            line.Clear();
                        }
                        // Pairs on one line are separated by the gap; a continuation line starts with it as an indent.
                        line.Append(Gap);
                    }
                    line.Append(pair);
                    // A single value wider than the line (a very long endpoint) is split rather than let overflow.
                    while (line.Length > width)
                    {
                        yield return line.ToString(0, width);
                        line.Remove(0, width).Insert(0, Gap);
                    }
                }
                yield return line.ToString();
            }
        }

        private static string Line(string[] cells, int[] widths)
        {
            var line = new System.Text.StringBuilder();
            for (var i = 0; i < cells.Length; i++)
            {
                if (i > 0)
                    line.Append(Gap);
                line.Append(cells[i].PadRight(widths[i]));
            }
            return line.ToString().TrimEnd();
        }
    }

    /// <summary>Runs a command body, turning the errors a user can cause into one line that says what to do next.</summary>
    private static async Task<int> Guard(Func<Task<int>> body)
    {
        try
        {
            return await body();
        }
        catch (ServiceSpecException e)
        {
            return Fail(e.Message);
        }
        catch (DaemonApiException e)
        {
            return Fail(e.Message);
        }
        catch (HttpRequestException e)
        {
            return Fail($"lost the wf daemon ({e.Message}); see {Path.Combine(WfHome.Path, "logs", "daemon.log")}, and `wf up` restarts it");
        }
        catch (OperationCanceledException)
        {
            return 130;
        }
    }

    private static int NoDaemon() => Fail($"the wf daemon is not running (no live {Path.Combine(WfHome.Path, DaemonInfo.FileName)}); `wf up SPEC` starts it");

    private static int Fail(string message)
    {
        Console.Error.WriteLine($"error: {message}");
        return 1;
    }
}
