using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using WrinkleFree.Platform.Http;
using WrinkleFree.Platform.Processes;

namespace WrinkleFree.Service.Providers;

/// <summary>
/// Replicas as processes on this machine. Each runs through <c>setsid</c> so it leads its own session and process group:
/// a stop reaches everything the run script spawned, and the controller's death (even SIGKILL) does not take the replica
/// with it, so a restarted controller can adopt it. Output goes to a log file under the home, never to a pipe the
/// controller holds, so a replica never blocks or dies on a closed pipe when the controller goes away.
/// </summary>
internal sealed class LocalProvider : IReplicaProvider
{
    private const string Host = "127.0.0.1";

    // Runs the setup script in a shell of its own (same environment, folder and log), then becomes the replica's command:
    // exec keeps the pid the handle records. A failing setup ends the replica with the setup's exit code, said in the log.
    private const string SetupThenCommand = """
        shell=$1; setup=$2; shift 2
        echo "--- wf: running setup ---"
        "$shell" -c "$setup"
        code=$?
        if [ "$code" -ne 0 ]; then
          echo "--- wf: setup failed with exit code $code; the replica's command did not run ---"
          exit "$code"
        fi
        echo "--- wf: setup done; starting the replica ---"
        exec "$@"
        """;

    private readonly LocalProviderOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<(string Service, int ReplicaId), Tracked> _replicas = new();
    private readonly SemaphoreSlim _launchLock = new(1, 1);

    // Ports handed out recently: a replica binds its port only some time after launch, and two launches in that window
    // must not both be told the same "free" port.
    private readonly ConcurrentDictionary<int, long> _recentPorts = new();

    public LocalProvider(LocalProviderOptions options, TimeProvider time, ILogger<LocalProvider> logger)
    {
        _options = options;
        _time = time;
        _logger = logger;
    }

    public string Name => ProviderNames.Local;

    public async Task<ReplicaHandle> LaunchAsync(ReplicaLaunchRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        request.Validate();
        await _launchLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_replicas.TryGetValue((request.Service, request.ReplicaId), out var existing) && IsRunning(existing))
            {
                return existing.Handle;
            }

            cancellationToken.ThrowIfCancellationRequested();
            var port = PickPort(request.PortHint);
            var logPath = LogPathOf(request.Service, request.ReplicaId);
            Directory.CreateDirectory(Path.GetDirectoryName(logPath)!);
            await File.AppendAllTextAsync(
                logPath,
                $"--- wf: replica {request.ReplicaId} of {request.Service} (version {request.Version}, tier {request.Tier}) starting at {_time.GetUtcNow():O} on port {port} ---\n",
                cancellationToken).ConfigureAwait(false);

            var tls = request.Tls?.Issue(request.ReplicaId, Host);

            // No cancellation past this point: once the process exists, the caller must get its handle to record it.
            var process = SessionProcess.Start(Command(request), logPath, request.WorkingDirectory, ReplicaEnvironment(request, port, tls), "wf-replica");
            var stat = LinuxProcess.ReadStat(process.Id);
            var handle = new ReplicaHandle
            {
                Provider = Name,
                Service = request.Service,
                ReplicaId = request.ReplicaId,
                EndpointUrl = $"{(tls is null ? "http" : "https")}://{Host}:{port.ToString(CultureInfo.InvariantCulture)}",
                Pid = process.Id,
                ProcessStartTime = stat?.StartTime,
                BootId = LinuxProcess.BootId,
                LogPath = logPath,
            };
            _replicas[(request.Service, request.ReplicaId)] = new Tracked(handle, process);
            Log.Launched(_logger, request.Service, request.ReplicaId, process.Id, handle.EndpointUrl, logPath);
            return handle;
        }
        finally
        {
            _launchLock.Release();
        }
    }

    public async Task<ProviderReplicaStatus> GetStatusAsync(ReplicaHandle handle, CancellationToken cancellationToken)
    {
        CheckHandle(handle);
        cancellationToken.ThrowIfCancellationRequested();
        if (handle.Pid is not { } pid)
        {
            return ProviderReplicaStatus.Unknown("the handle has no pid");
        }

        var identity = Identify(handle);
        if (identity == ProcessIdentity.Same)
        {
            return ProviderReplicaStatus.Running;
        }

        if (Own(handle) is { } process && identity != ProcessIdentity.Reused)
        {
            // Our child: the runtime reaps it on SIGCHLD a moment after /proc shows it dead; wait for that to read the code.
            using var reaped = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            reaped.CancelAfter(_options.KillWait);
            try
            {
                await process.WaitForExitAsync(reaped.Token).ConfigureAwait(false);
                return ProviderReplicaStatus.Exited(process.ExitCode);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // Not reaped in time: report what /proc says.
            }
        }

        return identity switch
        {
            ProcessIdentity.Gone => ProviderReplicaStatus.Exited(null, $"process {pid} is gone"),
            ProcessIdentity.Zombie => ProviderReplicaStatus.Exited(null, $"process {pid} has exited"),
            _ => ProviderReplicaStatus.Exited(null, $"pid {pid} now belongs to another process"),
        };
    }

    public async Task StopAsync(ReplicaHandle handle, TimeSpan drainTimeout, CancellationToken cancellationToken)
    {
        CheckHandle(handle);
        cancellationToken.ThrowIfCancellationRequested();
        if (handle.Pid is not { } pid)
        {
            return;
        }

        // A pid that now names another process means our group is long gone (Linux does not hand out a pid while a group
        // of that number still has members), so there is nothing of ours to signal.
        if (Identify(handle) != ProcessIdentity.Reused && LinuxProcess.GroupAlive(pid))
        {
            Log.Stopping(_logger, handle.Service, handle.ReplicaId, pid, drainTimeout);
            await ProcessGroup.TerminateAsync(
                pid, drainTimeout, _options.KillWait, _options.PollInterval, _time,
                () => Log.Killing(_logger, handle.Service, handle.ReplicaId, pid, drainTimeout), cancellationToken).ConfigureAwait(false);
        }

        if (Own(handle) is { } process)
        {
            // Our own child: wait for the runtime to reap it so its exit code is there for GetStatusAsync.
            using var reaped = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            reaped.CancelAfter(_options.KillWait);
            try
            {
                await process.WaitForExitAsync(reaped.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // A leader stuck unkillable (D state) is reported as running; the caller may stop again.
            }
        }
    }

    public IAsyncEnumerable<string> GetLogsAsync(ReplicaHandle handle, int? tail, bool follow, CancellationToken cancellationToken)
    {
        CheckHandle(handle);
        return ReplicaLogReader.ReadAsync(
            handle.LogPath ?? LogPathOf(handle.Service, handle.ReplicaId),
            tail,
            follow,
            async ct => (await GetStatusAsync(handle, ct).ConfigureAwait(false)).State == ProviderReplicaState.Running,
            _options.PollInterval,
            _time,
            cancellationToken);
    }

    public Task<bool> AdoptAsync(ReplicaHandle handle, CancellationToken cancellationToken)
    {
        CheckHandle(handle);
        cancellationToken.ThrowIfCancellationRequested();
        var identity = Identify(handle);
        if (identity != ProcessIdentity.Same)
        {
            Log.AdoptRejected(_logger, handle.Service, handle.ReplicaId, handle.Pid, identity.ToString());
            return Task.FromResult(false);
        }

        // Keep our own Process object when the replica is already ours (adopting twice, or adopting what we launched).
        _replicas.AddOrUpdate((handle.Service, handle.ReplicaId), new Tracked(handle, null), (_, old) => old.Handle == handle ? old : new Tracked(handle, null));
        Log.Adopted(_logger, handle.Service, handle.ReplicaId, handle.Pid!.Value);
        return Task.FromResult(true);
    }

    private string LogPathOf(string service, int replicaId) =>
        Path.Combine(_options.Home, "logs", service, replicaId.ToString(CultureInfo.InvariantCulture) + ".log");

    private List<string> Command(ReplicaLaunchRequest request)
    {
        List<string> command = request.Run is { } run ? [_options.Shell, "-c", run] : [request.Command!, .. request.Arguments];
        return request.Setup is { } setup ? [_options.Shell, "-c", SetupThenCommand, "wf-setup", _options.Shell, setup, .. command] : command;
    }

    private static Dictionary<string, string> ReplicaEnvironment(ReplicaLaunchRequest request, int port, Tls.ReplicaCertificateFiles? tls)
    {
        var environment = new Dictionary<string, string>(request.Envs)
        {
            // Ours win: the endpoint recorded in the handle must be where the replica listens.
            ["PORT"] = port.ToString(CultureInfo.InvariantCulture),
            ["HOST"] = Host,
            ["WF_SERVICE"] = request.Service,
            ["WF_REPLICA_ID"] = request.ReplicaId.ToString(CultureInfo.InvariantCulture),
        };
        if (tls is not null)
        {
            environment["WF_TLS_CERT"] = tls.CertFile;
            environment["WF_TLS_KEY"] = tls.KeyFile;
            environment["WF_TLS_CLIENT_CA"] = tls.ClientCaFile;
        }

        return environment;
    }

    private int PickPort(int? hint)
    {
        var now = _time.GetTimestamp();
        foreach (var (port, at) in _recentPorts)
        {
            if (_time.GetElapsedTime(at, now) > TimeSpan.FromMinutes(1))
            {
                _recentPorts.TryRemove(port, out _);
            }
        }

        if (hint is { } wanted && !_recentPorts.ContainsKey(wanted) && LoopbackPorts.Bind(wanted) is not null)
        {
            _recentPorts[wanted] = now;
            return wanted;
        }

        // Below the ephemeral range, and not one handed out in the last minute (its replica may still be starting).
        return LoopbackPorts.PickUnused(port => _recentPorts.TryAdd(port, now));
    }

    private bool IsRunning(Tracked tracked) =>
        tracked.Process is { HasExited: true } ? false : Identify(tracked.Handle) == ProcessIdentity.Same;

    private Process? Own(ReplicaHandle handle) =>
        _replicas.TryGetValue((handle.Service, handle.ReplicaId), out var tracked) && tracked.Handle.Pid == handle.Pid ? tracked.Process : null;

    private static ProcessIdentity Identify(ReplicaHandle handle) => LinuxProcess.Identify(handle.Pid, handle.ProcessStartTime, handle.BootId);

    private void CheckHandle(ReplicaHandle handle)
    {
        ArgumentNullException.ThrowIfNull(handle);
        if (handle.Provider != Name)
        {
            throw new ArgumentException($"handle belongs to provider '{handle.Provider}', not '{Name}'", nameof(handle));
        }
    }

    private sealed record Tracked(ReplicaHandle Handle, Process? Process);
}
