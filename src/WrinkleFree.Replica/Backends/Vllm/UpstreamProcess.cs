using System.Diagnostics;
using Microsoft.Extensions.Logging;
using WrinkleFree.Platform.Processes;

namespace WrinkleFree.Replica.Backends.Vllm;

/// <summary>
/// One run of the upstream command: <c>/bin/sh -c</c> started through <c>setsid</c> so that it leads a new process group,
/// which lets a stop reach everything the shell spawned (vLLM forks workers) instead of only the shell.
/// </summary>
internal sealed class UpstreamProcess : IDisposable
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(20);

    /// <summary>How long to let SIGKILLed processes take to disappear (a big process needs a moment to unmap).</summary>
    private static readonly TimeSpan KillWait = TimeSpan.FromSeconds(5);

    // setsid only execs (keeping the pid) because the forked child is never a group leader; without it we fall back to
    // killing the process tree that .NET can see. (Output is piped to our log here, so the session starter that detaches
    // into a log file, SessionProcess, does not fit.)
    private static readonly string? SetsidPath = LinuxProcess.SetsidPath;

    private readonly Process _process;
    private readonly ILogger _logger;
    private readonly TaskCompletionSource _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private UpstreamProcess(Process process, ILogger logger)
    {
        _process = process;
        _logger = logger;
    }

    public int Id { get; private set; }

    /// <summary>Completes when the process has exited (for any reason).</summary>
    public Task Exited => _exited.Task;

    public static UpstreamProcess Start(string command, int port, ILogger logger)
    {
        var info = new ProcessStartInfo
        {
            FileName = SetsidPath ?? "/bin/sh",
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        if (SetsidPath is not null)
        {
            info.ArgumentList.Add("/bin/sh");
        }

        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(command);
        info.Environment["UPSTREAM_PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture);

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var upstream = new UpstreamProcess(process, logger);
        process.Exited += (_, _) => upstream._exited.TrySetResult();

        // Output is logged line by line (the pipes must be drained or a chatty upstream would block on a full pipe).
        process.OutputDataReceived += (_, e) => upstream.LogLine(e.Data);
        process.ErrorDataReceived += (_, e) => upstream.LogLine(e.Data);
        process.Start();
        upstream.Id = process.Id;

        // The upstream reads nothing from us; closing stdin stops it from holding the replica's terminal.
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        Log.ProcessStarted(logger, upstream.Id, port, command);
        _ = upstream.ReportExitAsync();
        return upstream;
    }

    /// <summary>
    /// SIGTERM to the whole group, SIGKILL to what is left after <paramref name="gracePeriod"/>; returns once the group is
    /// gone (or, when an init that does not reap leaves zombies, shortly after the kill).
    /// </summary>
    public async Task StopAsync(TimeSpan gracePeriod, TimeProvider time)
    {
        if (GroupAlive())
        {
            Log.ProcessStopping(_logger, Id, gracePeriod);
            Signal(LinuxProcess.Sigterm);
            if (!await WaitGoneAsync(gracePeriod, time).ConfigureAwait(false))
            {
                Log.ProcessKilled(_logger, Id, gracePeriod);
            }
        }

        // Also after a clean exit of the leader: shell children left in the group must not outlive it.
        Signal(LinuxProcess.Sigkill);
        await WaitGoneAsync(KillWait, time).ConfigureAwait(false);
        await _exited.Task.ConfigureAwait(false);
    }

    public void Dispose() => _process.Dispose();

    /// <summary>Waits until the leader and (with a group) every member have exited; false at the timeout.</summary>
    private async Task<bool> WaitGoneAsync(TimeSpan timeout, TimeProvider time)
    {
        var started = time.GetTimestamp();
        using (var leader = new CancellationTokenSource(timeout, time))
        {
            try
            {
                await _exited.Task.WaitAsync(leader.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return false;
            }
        }

        var left = timeout - time.GetElapsedTime(started);
        return SetsidPath is null || await ProcessGroup.WaitGoneAsync(Id, left < TimeSpan.Zero ? TimeSpan.Zero : left, PollInterval, time, CancellationToken.None).ConfigureAwait(false);
    }

    private bool GroupAlive() => !_exited.Task.IsCompleted || (SetsidPath is not null && LinuxProcess.GroupAlive(Id));

    private void Signal(int signal)
    {
        if (SetsidPath is not null)
        {
            // The pid stays reserved as a group id while any member lives, so this cannot hit an unrelated group.
            LinuxProcess.SignalGroup(Id, signal);
            return;
        }

        if (!_exited.Task.IsCompleted)
        {
            try
            {
                _process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // Exited between the check and the kill.
            }
        }
    }

    private void LogLine(string? line)
    {
        if (line is not null)
        {
            Log.ProcessOutput(_logger, Id, line);
        }
    }

    private async Task ReportExitAsync()
    {
        await _exited.Task.ConfigureAwait(false);
        var code = -1;
        try
        {
            // WaitForExit() also waits for the output pipes to drain, so the last lines are logged before this.
            await _process.WaitForExitAsync().ConfigureAwait(false);
            code = _process.ExitCode;
        }
        catch (InvalidOperationException)
        {
            // Disposed before the exit was read.
        }

        Log.ProcessExited(_logger, Id, code);
    }
}
