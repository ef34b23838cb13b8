using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Spectre.Console;
using WrinkleFree.Inference.Gguf;
using WrinkleFree.Inference.Models;
using WrinkleFree.Serve.Daemon;
using WrinkleFree.Serve.Spec;

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
            await AnsiConsole.Status().StartAsync($"waiting for a ready replica of {view.Name}...", async context =>
            {
                while (view.ReadyReplicas == 0)
                {
                    await Task.Delay(500, ct);
                    view = await client.GetAsync(serviceName, ct);
                    var states = string.Join(", ", view.Replicas.Select(r => $"{r.Id} {r.Status}"));
                    context.Status($"waiting for a ready replica of {view.Name} ({(states.Length > 0 ? states : view.Status)})...");
                }
            });
            Console.WriteLine($"service {view.Name} is READY at {view.Endpoint}");
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
            RenderServices(services);
            if (one is not null || parse.GetValue(all))
                RenderReplicas(services);
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
        var bin = Path.Combine(home, "bin");
        Directory.CreateDirectory(bin);
        var (exe, prefix) = SelfCommand();
        var shim = Path.Combine(bin, "wf");
        var words = prefix.Prepend(exe).Select(w => "'" + w.Replace("'", "'\\''", StringComparison.Ordinal) + "'");
        File.WriteAllText(shim + ".tmp", $"#!/bin/sh\nexec {string.Join(' ', words)} \"$@\"\n");
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(shim + ".tmp", UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        File.Move(shim + ".tmp", shim, overwrite: true);
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
        var info = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        // The daemon must not hold our stdout (a caller reading it to the end would wait for the daemon) or our session.
        foreach (var arg in new[] { "-c", "exec 0</dev/null 1>>\"$1\" 2>&1; shift; if command -v setsid >/dev/null; then exec setsid \"$@\"; else exec \"$@\"; fi", "sh", log, exe })
            info.ArgumentList.Add(arg);
        foreach (var arg in prefix)
            info.ArgumentList.Add(arg);
        info.ArgumentList.Add("daemon");
        info.Environment["WF_HOME"] = home;
        using (Process.Start(info))
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
            ? (process, [typeof(ServiceCommands).Assembly.Location])
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
            Directory.CreateDirectory(Path.GetDirectoryName(synthetic)!);
            var temp = synthetic + ".tmp";
            SyntheticModel.Write(temp, SyntheticShape.Tiny, GgmlType.TQ2_0, seed: 1);
            File.Move(temp, synthetic, overwrite: true);
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

    private static void RenderServices(IReadOnlyList<ServiceView> services)
    {
        if (services.Count == 0)
        {
            Console.WriteLine("No services. `wf up SPEC` starts one.");
            return;
        }
        var table = new Table().AddColumns("NAME", "VERSION", "UPTIME", "STATUS", "REPLICAS", "ENDPOINT", "QPS", "COST/HR");
        foreach (var s in services)
        {
            table.AddRow(Markup.Escape(s.Name), s.Version.ToString(CultureInfo.InvariantCulture), Uptime(DateTimeOffset.UtcNow - s.CreatedAt), s.Status,
                $"{s.ReadyReplicas}/{s.Replicas.Count}", Markup.Escape(s.Endpoint), s.Qps.ToString("0.##", CultureInfo.InvariantCulture),
                "$" + s.CostPerHour.ToString("0.00", CultureInfo.InvariantCulture));
        }
        AnsiConsole.Write(table);
    }

    private static void RenderReplicas(IReadOnlyList<ServiceView> services)
    {
        var table = new Table().AddColumns("SERVICE", "ID", "VERSION", "TIER", "COST/HR", "STATUS", "ENDPOINT", "PID", "LAUNCHED");
        foreach (var s in services)
        {
            foreach (var r in s.Replicas)
            {
                table.AddRow(Markup.Escape(s.Name), r.Id.ToString(CultureInfo.InvariantCulture), r.Version.ToString(CultureInfo.InvariantCulture), Markup.Escape(r.Tier),
                    "$" + r.CostPerHour.ToString("0.00", CultureInfo.InvariantCulture), r.Status, Markup.Escape(r.Endpoint ?? "-"),
                    r.Pid?.ToString(CultureInfo.InvariantCulture) ?? "-", Uptime(DateTimeOffset.UtcNow - r.Launched) + " ago");
            }
        }
        AnsiConsole.Write(table);
    }

    private static string Uptime(TimeSpan t) => t.TotalDays >= 1 ? $"{(int)t.TotalDays}d {t.Hours}h"
        : t.TotalHours >= 1 ? $"{(int)t.TotalHours}h {t.Minutes}m"
        : t.TotalMinutes >= 1 ? $"{(int)t.TotalMinutes}m {t.Seconds}s"
        : $"{Math.Max(0, (int)t.TotalSeconds)}s";

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
