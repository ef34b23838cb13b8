using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;
using WrinkleFree.Platform.Files;
using WrinkleFree.Platform.Home;
using WrinkleFree.Platform.Processes;

namespace WrinkleFree.Service.Daemon;

/// <summary>
/// Keeps the daemon running: starts `wf daemon run` in a session of its own and starts it again whenever it exits
/// without being asked to (a crash, an OOM kill, a SIGKILL), after a short doubling pause. It holds no state, so it has
/// almost nothing that can fail; the daemon it restarts re-adopts every replica and endpoint process, which kept serving
/// meanwhile. This is what `wf up` starts; in production systemd's <c>Restart=always</c> can play the same part for
/// `wf daemon run` (docs/operations.md).
/// </summary>
/// <remarks>
/// Why a supervisor rather than handing the listening socket to a successor: a killed daemon's in-flight requests die
/// with it whatever happens to the socket, so the endpoints run in processes of their own (<see cref="Endpoint.EndpointHost"/>)
/// and only the controller restarts: losing it for a few seconds delays scaling decisions, never a request.
/// </remarks>
public static class DaemonSupervisor
{
    /// <summary>The supervisor's own record under the home.</summary>
    public const string FileName = "supervisor.json";

    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan StableRun = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Runs until <paramref name="stop"/> (SIGTERM), then stops the daemon (SIGTERM, up to 30 s) and returns 0; returns
    /// 1 at once when another supervisor holds the home.
    /// </summary>
    /// <param name="daemonCommand">Program and arguments that run the daemon in the foreground (`wf daemon run`).</param>
    public static async Task<int> RunAsync(string home, IReadOnlyList<string> daemonCommand, TimeProvider time, TextWriter log, CancellationToken stop)
    {
        WfHome.CreatePrivateDirectory(home);
        FileStream supervisorLock;
        try
        {
            // FileShare.None is an exclusive flock on Linux, released by the kernel however the supervisor dies.
            supervisorLock = new FileStream(Path.Combine(home, "supervisor.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            log.WriteLine($"wf daemon supervise: another supervisor runs for {home} ({Path.Combine(home, FileName)}); not starting");
            return 1;
        }
        await using (supervisorLock)
        {
            var info = new SupervisorInfo { Pid = Environment.ProcessId, StartTime = LinuxProcess.StartTime(Environment.ProcessId), StartedAt = time.GetUtcNow() };
            var backoff = TimeSpan.FromSeconds(1);
            while (!stop.IsCancellationRequested)
            {
                if (DaemonLockHeld(home))
                {
                    // A daemon started by hand (or by a previous supervisor) still runs: watch it instead of starting a second.
                    await DelayAsync(TimeSpan.FromSeconds(1), time, stop).ConfigureAwait(false);
                    continue;
                }
                var started = time.GetTimestamp();
                int pid;
                Process child;
                try
                {
                    child = SessionProcess.Start(daemonCommand, Path.Combine(WfHome.Logs(home), "daemon.log"), environment: [new(WfHome.Variable, home)], name: "wf-daemon");
                    pid = child.Id;
                }
                catch (Exception e) when (e is IOException or InvalidOperationException or System.ComponentModel.Win32Exception)
                {
                    log.WriteLine($"{time.GetUtcNow():O} cannot start the daemon: {e.Message}; retrying in {backoff.TotalSeconds:0} s");
                    await DelayAsync(backoff, time, stop).ConfigureAwait(false);
                    backoff = Next(backoff);
                    continue;
                }
                using (child)
                {
                    info = info with { DaemonPid = pid };
                    Write(home, info);
                    log.WriteLine($"{time.GetUtcNow():O} daemon started (pid {pid})");
                    try
                    {
                        await child.WaitForExitAsync(stop).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                        log.WriteLine($"{time.GetUtcNow():O} stopping the daemon (pid {pid})");
                        await ProcessGroup.TerminateAsync(pid, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(5), TimeSpan.FromMilliseconds(100), time, null, CancellationToken.None).ConfigureAwait(false);
                        break;
                    }
                    var ran = time.GetElapsedTime(started);
                    if (ran >= StableRun)
                        backoff = TimeSpan.FromSeconds(1);
                    info = info with { Restarts = info.Restarts + 1, LastExit = $"exit code {child.ExitCode} after {ran.TotalSeconds:0} s at {time.GetUtcNow():O}" };
                    Write(home, info);
                    log.WriteLine($"{time.GetUtcNow():O} daemon (pid {pid}) exited with code {child.ExitCode} after {ran.TotalSeconds:0} s; restarting in {backoff.TotalSeconds:0} s");
                }
                await DelayAsync(backoff, time, stop).ConfigureAwait(false);
                backoff = Next(backoff);
            }
            TryDelete(Path.Combine(home, FileName));
        }
        return 0;
    }

    /// <summary>The supervisor's record, or null when none is written or its process is gone.</summary>
    public static SupervisorInfo? TryRead(string home)
    {
        try
        {
            var info = JsonSerializer.Deserialize(File.ReadAllText(Path.Combine(home, FileName)), SupervisorJsonContext.Default.SupervisorInfo);
            return info is not null && LinuxProcess.IsSame(info.Pid, info.StartTime) ? info : null;
        }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static bool DaemonLockHeld(string home)
    {
        try
        {
            using var probe = new FileStream(Path.Combine(home, "daemon.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            return false;
        }
        catch (IOException)
        {
            return true;
        }
    }

    private static void Write(string home, SupervisorInfo info) =>
        AtomicFile.Write(Path.Combine(home, FileName), s => JsonSerializer.Serialize(s, info, SupervisorJsonContext.Default.SupervisorInfo), WfHome.PrivateFileMode);

    private static TimeSpan Next(TimeSpan backoff) => backoff * 2 > MaxBackoff ? MaxBackoff : backoff * 2;

    private static async Task DelayAsync(TimeSpan delay, TimeProvider time, CancellationToken stop)
    {
        try
        {
            await Task.Delay(delay, time, stop).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Stopping: the loop condition ends it.
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // A stale record is detected by its dead pid.
        }
    }
}

/// <summary>What supervisor.json says: the supervisor, the daemon it runs, and how often it had to restart it.</summary>
public sealed record SupervisorInfo
{
    public int Pid { get; init; }

    public long? StartTime { get; init; }

    public DateTimeOffset StartedAt { get; init; }

    public int? DaemonPid { get; init; }

    public int Restarts { get; init; }

    public string? LastExit { get; init; }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true)]
[JsonSerializable(typeof(SupervisorInfo))]
internal sealed partial class SupervisorJsonContext : JsonSerializerContext
{
}
