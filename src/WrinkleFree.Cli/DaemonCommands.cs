using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using WrinkleFree.Platform.Home;
using WrinkleFree.Platform.Processes;
using WrinkleFree.Service.Daemon;
using WrinkleFree.Service.Endpoint;

namespace WrinkleFree.Cli;

/// <summary>
/// <c>wf daemon run|supervise|status|stop</c> and the hidden <c>wf endpoint NAME</c>: the background processes behind
/// `wf up`. The supervisor keeps the daemon (the controllers and the admin API) running; each service's endpoint is a
/// process of its own that keeps serving while the daemon is down.
/// </summary>
internal sealed class DaemonCommands(CliContext context)
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public void Register(RootCommand root)
    {
        var daemon = new Command("daemon", "The service daemon behind `wf up`: its state, and stopping it. `wf up` starts it when none runs.");
        daemon.Subcommands.Add(Run());
        daemon.Subcommands.Add(Supervise());
        daemon.Subcommands.Add(Status());
        daemon.Subcommands.Add(Stop());
        root.Subcommands.Add(daemon);
        root.Subcommands.Add(EndpointCommand());
    }

    private Command Run()
    {
        // A draining command, as `wf replica`: SIGTERM cancels the token and the daemon stops its controllers before exiting.
        var cmd = new DrainingCommand("run", "Run the daemon in the foreground (for systemd: see docs/operations.md); endpoints and replicas outlive it.");
        var logging = new ProcessLogging();
        logging.AddTo(cmd);
        cmd.SetAction((parse, ct) => logging.TryResolve(parse, context.Error, out var log) ? RunDaemonAsync(log, ct) : Task.FromResult(ExitCodes.InvalidInput));
        return cmd;
    }

    private Command Supervise()
    {
        var cmd = new DrainingCommand("supervise", "Run the daemon and start it again whenever it dies (what `wf up` starts in the background).");
        cmd.SetAction((_, ct) =>
        {
            SecureHome();
            var (exe, prefix) = ServiceCommands.SelfCommand();
            return DaemonSupervisor.RunAsync(context.Home, [exe, .. prefix, "daemon", "run"], context.Time, context.Out, ct);
        });
        return cmd;
    }

    private Command Status()
    {
        var json = new Option<bool>("--json") { Description = "Print machine-readable JSON (supervisor, daemon, endpoints)." };
        var cmd = new Command("status", "Show the supervisor, the daemon and each service's endpoint process: pids, uptime, restarts.") { json };
        cmd.SetAction(async (parse, ct) =>
        {
            var report = await ReportAsync(ct);
            if (parse.GetValue(json))
            {
                context.Out.WriteLine(JsonSerializer.Serialize(report, Json));
            }
            else
            {
                var now = context.Time.GetUtcNow();
                var table = new CliTable("PROCESS", "PID", "STATUS", "UPTIME", "DETAIL");
                table.AddRow("supervisor", Pid(report.Supervisor?.Pid), report.Supervisor is null ? "not running" : "running",
                    report.Supervisor is { } s ? CliFormat.Duration(now - s.StartedAt) : "-",
                    report.Supervisor is { } sv ? $"{sv.Restarts} daemon restarts" + (sv.LastExit is { } last ? $", last: {last}" : "") : "-");
                table.AddRow("daemon", Pid(report.Daemon?.Pid), report.DaemonAnswers ? "running" : report.Daemon is null ? "not running" : "not answering",
                    report.Daemon is { } d ? CliFormat.Duration(now - d.StartedAt) : "-",
                    report.Daemon is { } da ? $"admin API {da.AdminUrl}, {report.Services} services" : "-");
                foreach (var e in report.Endpoints)
                    table.AddRow($"endpoint {e.Service}", Pid(e.Pid), e.Alive ? "running" : "gone", "-", e.Url);
                CliTable.WriteAll(context, [table]);
                if (!report.DaemonAnswers)
                    context.Out.WriteLine("The daemon is not running: endpoints and replicas keep serving; `wf up` (or `wf daemon supervise`) starts it.");
            }
            return report.DaemonAnswers ? ExitCodes.Success : ExitCodes.Failure;
        });
        return cmd;
    }

    private Command Stop()
    {
        var cmd = new Command("stop", "Stop the daemon and its supervisor. Services keep serving on their endpoints and replicas; `wf up` starts the daemon again.");
        cmd.SetAction(async (_, ct) =>
        {
            var supervisor = DaemonSupervisor.TryRead(context.Home);
            var daemon = DaemonInfo.TryRead(context.Home) is { ProcessExists: true } d ? d : null;
            if (supervisor is null && daemon is null)
            {
                context.Out.WriteLine("The daemon is not running.");
                return ExitCodes.Success;
            }
            // The supervisor stops the daemon it runs; a daemon run by hand is stopped directly.
            var pid = supervisor?.Pid ?? daemon!.Pid;
            LinuxProcess.SignalGroup(pid, LinuxProcess.Sigterm);
            var gone = await ProcessGroup.WaitGoneAsync(pid, TimeSpan.FromSeconds(45), TimeSpan.FromMilliseconds(100), context.Time, ct);
            if (daemon is not null && supervisor is not null && gone)
                gone = await ProcessGroup.WaitGoneAsync(daemon.Pid, TimeSpan.FromSeconds(45), TimeSpan.FromMilliseconds(100), context.Time, ct);
            if (!gone)
            {
                context.Error.WriteLine($"error: process {pid} did not stop within 45 s; see {Path.Combine(WfHome.Logs(context.Home), "daemon.log")}");
                return ExitCodes.Failure;
            }
            context.Out.WriteLine("Stopped the daemon" + (supervisor is null ? "" : " and its supervisor")
                + ". Services keep serving on their endpoints; `wf up` starts the daemon again, `wf down NAME` removes a service.");
            return ExitCodes.Success;
        });
        return cmd;
    }

    private Command EndpointCommand()
    {
        var name = new Argument<string>("NAME") { Description = "The service whose endpoint to serve." };
        var cmd = new DrainingCommand("endpoint", "Serve one service's endpoint (the daemon starts it; it outlives the daemon).") { Hidden = true };
        cmd.Arguments.Add(name);
        var logging = new ProcessLogging();
        logging.AddTo(cmd);
        cmd.SetAction(async (parse, ct) =>
        {
            if (!logging.TryResolve(parse, context.Error, out var log))
                return ExitCodes.InvalidInput;
            SecureHome();
            using var rotation = ProcessLogging.StartRotation(log, context.Time, context.Error);
            using var loggers = DaemonLoggers(log);
            return await EndpointHost.RunAsync(context.Home, parse.GetValue(name)!, context.Time, loggers, ct);
        });
        return cmd;
    }

    /// <summary>Owner-only files from here on (children inherit the mask), and a home left open by an older version closed.</summary>
    private void SecureHome()
    {
        if (PrivateFiles.Secure(context.Home) is { } was)
            context.Error.WriteLine($"note: {context.Home} was readable by other users (mode {Convert.ToString((int)was, 8)}); it is now 0700: it holds secrets");
    }

    private async Task<int> RunDaemonAsync(ProcessLogging.Settings log, CancellationToken stop)
    {
        SecureHome();
        using var rotation = ProcessLogging.StartRotation(log, context.Time, context.Error);
        using var loggers = DaemonLoggers(log);
        var home = context.Home;
        var (exe, prefix) = ServiceCommands.SelfCommand();
        ServiceDaemon daemon;
        try
        {
            daemon = await ServiceDaemon.StartAsync(new DaemonOptions
            {
                Home = home,
                ReplicaEnvironment = ReplicaEnvironment(home),
                WfCommand = [exe, .. prefix],
                // The plain note would be the one line of daemon.log that is not JSON.
                DefaultModelPath = DefaultModel.Ensure(home, log.Json ? null : context.Out),
                PrometheusTargetsFolder = Environment.GetEnvironmentVariable("WF_PROMETHEUS_SD_DIR") is { Length: > 0 } sd ? Path.GetFullPath(sd) : null,
                Providers = WfProviders.All,
            }, context.Time, loggers, stop);
        }
        catch (IOException e)
        {
            // Most often another daemon holds the lock: it serves, so this one is not needed.
            context.Error.WriteLine($"wf daemon: not starting: {e.Message}");
            return ExitCodes.Failure;
        }
        await using (daemon)
        {
            if (!log.Json)
                context.Out.WriteLine($"wf daemon: admin API on {daemon.Info.AdminUrl}");
            try
            {
                await Task.Delay(Timeout.Infinite, stop);
            }
            catch (OperationCanceledException)
            {
                // SIGTERM: stop the controllers; endpoints and replicas keep serving until the next daemon adopts them.
            }
        }
        return ExitCodes.Success;
    }

    private static ILoggerFactory DaemonLoggers(ProcessLogging.Settings log) =>
        LoggerFactory.Create(b => ProcessLogging.Configure(b, log, "yyyy-MM-dd HH:mm:ss.fff "));

    /// <summary>Puts a `wf` shim first on the replicas' PATH, so specs can run `wf replica` wherever wf is installed.</summary>
    private static Dictionary<string, string> ReplicaEnvironment(string home)
    {
        var (exe, prefix) = ServiceCommands.SelfCommand();
        var bin = CommandShim.Write(Path.Combine(home, "bin"), "wf", prefix.Prepend(exe));
        return new Dictionary<string, string>
        {
            ["PATH"] = bin + ":" + (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin"),
            ["WF_HOME"] = home,
        };
    }

    private async Task<DaemonReport> ReportAsync(CancellationToken ct)
    {
        var home = context.Home;
        var daemon = DaemonInfo.TryRead(home) is { ProcessExists: true } d ? d : null;
        using var client = daemon is null ? null : await DaemonClient.ConnectAsync(home, ct);
        var services = client is null ? 0 : (await client.ListAsync(ct)).Count;
        var endpoints = new List<EndpointReport>();
        var folder = EndpointPaths.Folder(home);
        if (Directory.Exists(folder))
        {
            foreach (var file in Directory.GetFiles(folder, "*.json").Where(f => !f.EndsWith(".options.json", StringComparison.Ordinal)).Order(StringComparer.Ordinal))
            {
                if (EndpointHost.ReadIdentity(home, Path.GetFileNameWithoutExtension(file)) is { } e)
                    endpoints.Add(new EndpointReport(e.Service, e.Pid, LinuxProcess.Identify(e.Pid, e.StartTime, e.BootId) == ProcessIdentity.Same, e.BaseUrl));
            }
        }
        return new DaemonReport(DaemonSupervisor.TryRead(home), daemon, client is not null, services, endpoints);
    }

    private static string Pid(int? pid) => pid?.ToString(CultureInfo.InvariantCulture) ?? "-";

    private sealed record DaemonReport(SupervisorInfo? Supervisor, DaemonInfo? Daemon, bool DaemonAnswers, int Services, IReadOnlyList<EndpointReport> Endpoints);

    private sealed record EndpointReport(string Service, int Pid, bool Alive, string Url);
}
