using System.CommandLine;
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using Spectre.Console;
using WrinkleFree.Providers.Ssh.Nodes;
using WrinkleFree.Providers.Ssh.Pools;
using WrinkleFree.Providers.Ssh.Sessions;

namespace WrinkleFree.Cli;

/// <summary>
/// <c>wf ssh up|check|down</c>: bare-metal node pools (SkyPilot's <c>ssh_node_pools.yaml</c>). <c>up</c> installs the
/// serving <c>wf</c> and the models on every node (skipping what is already there), <c>check</c> reports what each node
/// has and holds, <c>down</c> stops our replicas and removes what <c>up</c> installed. The pool file's reader and the SSH
/// connector are passed in, so the command logic runs over any sessions.
/// </summary>
internal sealed class SshCommands
{
    private const string PublishServing = "dotnet publish src/wf-serving -c Release -r linux-x64 -o out/wf-serving";

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
    };

    private readonly CliContext _context;
    private readonly Func<string?, IReadOnlyList<(string Pool, IReadOnlyList<SshNode> Nodes, int? ReplicasPerNode)>> _loadPools;
    private readonly Func<bool, ISshConnector> _connector;
    private readonly PoolSetupOptions _options;

    /// <param name="context">Console, clock and WF home.</param>
    /// <param name="loadPools">The pools of the pool file: the one named, or every pool for null; throws naming the file and pool when it cannot.</param>
    /// <param name="connector">The SSH connector; its argument says whether unknown host keys are accepted (and recorded).</param>
    /// <param name="options">How the pool is worked through (parallelism, drain); defaults when null.</param>
    public SshCommands(
        CliContext context,
        Func<string?, IReadOnlyList<(string Pool, IReadOnlyList<SshNode> Nodes, int? ReplicasPerNode)>> loadPools,
        Func<bool, ISshConnector> connector,
        PoolSetupOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(loadPools);
        ArgumentNullException.ThrowIfNull(connector);
        _context = context;
        _loadPools = loadPools;
        _connector = connector;
        _options = options ?? new PoolSetupOptions();
    }

    public void Register(RootCommand root)
    {
        ArgumentNullException.ThrowIfNull(root);
        var ssh = new Command("ssh", "Bare-metal node pools over SSH (ssh_node_pools.yaml): install on the nodes, check them, remove what was installed.");
        ssh.Subcommands.Add(Up());
        ssh.Subcommands.Add(Check());
        ssh.Subcommands.Add(Down());
        ssh.Subcommands.Add(SshTerraformCommand.Create(_context));
        root.Subcommands.Add(ssh);
    }

    private Command Up()
    {
        var pool = PoolOption();
        var acceptNew = new Option<bool>("--accept-new") { Description = "Accept and record the host key of a node not yet in known_hosts (as ssh's StrictHostKeyChecking=accept-new)." };
        var models = new Option<string[]>("--model") { Description = "A model file (GGUF) to install on every node, as models/<sha256>.gguf. Repeatable." };
        var wf = new Option<string?>("--wf") { Description = $"The serving wf single file to install (default: this wf when it is one; build it with `{PublishServing}`)." };
        var json = JsonOption();
        var cmd = new Command("up", "Connect to every node, read what it has, and install the serving wf and the models (resumable, verified by SHA-256, skipped when present).")
        {
            pool, acceptNew, models, wf, json,
        };
        cmd.SetAction((parse, ct) => UpAsync(parse.GetValue(pool), parse.GetValue(acceptNew), parse.GetValue(models) ?? [], parse.GetValue(wf), parse.GetValue(json), ct));
        return cmd;
    }

    private Command Check()
    {
        var pool = PoolOption();
        var cpus = new Option<double?>("--cpus") { Description = "CPUs one replica asks for (resources.cpus), to count the free replicas per node." };
        var memory = new Option<double?>("--memory") { Description = "GiB one replica asks for (resources.memory), to count the free replicas per node." };
        var json = JsonOption();
        var cmd = new Command("check", "Report per node: reachable, wf version, cores, memory, CPU flags, free replicas, replicas running.") { pool, cpus, memory, json };
        cmd.SetAction((parse, ct) => CheckAsync(parse.GetValue(pool), parse.GetValue(cpus), parse.GetValue(memory), parse.GetValue(json), ct));
        return cmd;
    }

    private Command Down()
    {
        var pool = PoolOption();
        var json = JsonOption();
        var cmd = new Command("down", "Stop WrinkleFree's replicas on every node (drained) and remove what `wf ssh up` installed.") { pool, json };
        cmd.SetAction((parse, ct) => DownAsync(parse.GetValue(pool), parse.GetValue(json), ct));
        return cmd;
    }

    internal async Task<int> UpAsync(string? poolName, bool acceptNew, IReadOnlyList<string> models, string? wfPath, bool json, CancellationToken cancellationToken)
    {
        var wf = wfPath ?? RunningSingleFile();
        if (wf is null)
        {
            return Fail(ExitCodes.InvalidInput,
                $"this wf is not a single-file build, so it cannot be copied to the nodes; build the serving one with `{PublishServing}` and pass --wf out/wf-serving/wf");
        }

        if (new[] { wf }.Concat(models).FirstOrDefault(f => !File.Exists(f)) is { } missing)
        {
            return Fail(ExitCodes.InvalidInput, $"'{missing}' does not exist{(missing == wf ? $"; build the serving wf with `{PublishServing}`" : "")}");
        }

        return await OnEveryPoolAsync(poolName, acceptNew,
            (setup, pool) => json || !_context.OutputIsTerminal
                ? setup.UpAsync(pool.Nodes, wf, models, null, cancellationToken)
                : WithProgressBarsAsync(progress => setup.UpAsync(pool.Nodes, wf, models, progress, cancellationToken)),
            r => r.Error,
            results =>
        {
            if (json)
            {
                WriteJson(results.Select(r => new
                {
                    pool = r.Pool,
                    node = r.Result.Node.Name,
                    ok = r.Result.Succeeded,
                    error = r.Result.Error,
                    facts = r.Result.Facts is { } f ? FactsJson(f) : null,
                    files = r.Result.Files.Select(x => new { path = x.RemotePath, outcome = x.Outcome.ToString().ToLowerInvariant(), bytes_sent = x.BytesSent, sha256 = x.Sha256 }),
                }));
            }
            else
            {
                var table = new CliTable("POOL", "NODE", "STATUS", "CORES", "MEMORY", "FLAGS", "WF", "FILES");
                foreach (var (pool, r) in results)
                {
                    table.AddRow(pool, r.Node.Name, r.Succeeded ? "ready" : "FAILED",
                        r.Facts?.Cores.ToString(CultureInfo.InvariantCulture) ?? "-", r.Facts is { } f ? Gib(f.MemoryTotalBytes) : "-",
                        r.Facts?.Simd ?? "-", r.Facts?.WfVersion ?? "-",
                        r.Files.Count == 0 ? "-" : string.Join(", ", r.Files.Select(Describe)));
                }

                table.Write(_context);
            }
        }, "`wf ssh up` again once they are fixed: it sends only what is missing", cancellationToken);
    }

    internal async Task<int> CheckAsync(string? poolName, double? cpus, double? memoryGiB, bool json, CancellationToken cancellationToken)
    {
        if (cpus is <= 0 || memoryGiB is <= 0)
        {
            return Fail(ExitCodes.InvalidInput, "--cpus and --memory must be positive");
        }

        return await OnEveryPoolAsync(poolName, acceptNew: false,
            (setup, pool) => setup.CheckAsync(pool.Nodes, cpus, memoryGiB, pool.ReplicasPerNode, cancellationToken),
            r => r.Error,
            results =>
        {
            if (json)
            {
                WriteJson(results.Select(r => new
                {
                    pool = r.Pool,
                    node = r.Result.Node.Name,
                    reachable = r.Result.Reachable,
                    error = r.Result.Error,
                    capacity = r.Result.Capacity,
                    free_replicas = r.Result.Free,
                    facts = r.Result.Facts is { } f ? FactsJson(f) : null,
                }));
            }
            else
            {
                var table = new CliTable("POOL", "NODE", "REACHABLE", "WF VERSION", "CORES", "MEMORY", "FLAGS", "FREE REPLICAS", "RUNNING");
                foreach (var (pool, r) in results)
                {
                    var f = r.Facts;
                    table.AddRow(pool, r.Node.Name, r.Reachable ? "yes" : "NO",
                        f is null ? "-" : f.WfVersion ?? "not installed",
                        f?.Cores.ToString(CultureInfo.InvariantCulture) ?? "-",
                        f is null ? "-" : $"{Gib(f.MemoryAvailableBytes)} free of {Gib(f.MemoryTotalBytes)}",
                        f?.Simd ?? "-",
                        r.Free is { } free ? $"{free.ToString(CultureInfo.InvariantCulture)} of {r.Capacity!.Value.ToString(CultureInfo.InvariantCulture)}" : "-",
                        f is null ? "-" : Running(f));
                }

                table.Write(_context);
            }
        }, "`wf ssh check` again once they answer", cancellationToken);
    }

    internal async Task<int> DownAsync(string? poolName, bool json, CancellationToken cancellationToken)
    {
        return await OnEveryPoolAsync(poolName, acceptNew: false,
            (setup, pool) => setup.DownAsync(pool.Nodes, cancellationToken),
            r => r.Error,
            results =>
        {
            if (json)
            {
                WriteJson(results.Select(r => new
                {
                    pool = r.Pool,
                    node = r.Result.Node.Name,
                    ok = r.Result.Succeeded,
                    error = r.Result.Error,
                    stopped = r.Result.Stopped.Select(s => NodeLayout.ReplicaName(s.Service, s.ReplicaId)),
                }));
            }
            else
            {
                var table = new CliTable("POOL", "NODE", "STATUS", "REPLICAS STOPPED");
                foreach (var (pool, r) in results)
                {
                    table.AddRow(pool, r.Node.Name, r.Succeeded ? "removed" : "FAILED",
                        r.Stopped.Count == 0 ? "-" : string.Join(", ", r.Stopped.Select(s => NodeLayout.ReplicaName(s.Service, s.ReplicaId))));
                }

                table.Write(_context);
            }
        }, "`wf ssh down` again once they answer", cancellationToken);
    }

    private async Task<IReadOnlyList<NodeUpResult>> WithProgressBarsAsync(
        Func<IProgress<(SshNode Node, string File, long Done, long Total)>, Task<IReadOnlyList<NodeUpResult>>> run)
    {
        IReadOnlyList<NodeUpResult> results = [];
        await _context.Console.Progress().AutoClear(false).StartAsync(async ctx =>
        {
            var tasks = new Dictionary<(string, string), ProgressTask>();
            var progress = new InlineProgress(value =>
            {
                lock (tasks)
                {
                    if (!tasks.TryGetValue((value.Node.Name, value.File), out var task))
                    {
                        task = ctx.AddTask(Markup.Escape($"{value.Node.Name} {value.File}"), maxValue: Math.Max(1, value.Total));
                        tasks[(value.Node.Name, value.File)] = task;
                    }

                    task.Value = value.Done;
                }
            });
            results = await run(progress);
        });
        return results;
    }

    private IReadOnlyList<(string Pool, IReadOnlyList<SshNode> Nodes, int? ReplicasPerNode)>? LoadPools(string? pool)
    {
        try
        {
            var pools = _loadPools(pool);
            if (pools.Count == 0 || pools.All(p => p.Nodes.Count == 0))
            {
                Fail(ExitCodes.InvalidInput, pool is null
                    ? "no SSH node pools are defined; add one to ~/.sky/ssh_node_pools.yaml or $WF_HOME/ssh_node_pools.yaml (pool name, then hosts:)"
                    : $"pool '{pool}' has no hosts; list them under '{pool}: hosts:' in ssh_node_pools.yaml");
                return null;
            }

            return pools;
        }
#pragma warning disable CA1031 // the pool reader's errors (file, YAML, unknown pool, unreadable key) all become one line for the user
        catch (Exception e) when (e is not OperationCanceledException)
#pragma warning restore CA1031
        {
            Fail(ExitCodes.InvalidInput, e.Message);
            return null;
        }
    }

    /// <summary>
    /// The shape every <c>wf ssh</c> verb shares: load the pools, run <paramref name="perPool"/> on each, show the
    /// results, and report each node's error with what to do <paramref name="next"/>.
    /// </summary>
    private async Task<int> OnEveryPoolAsync<T>(
        string? poolName,
        bool acceptNew,
        Func<PoolSetup, (string Name, IReadOnlyList<SshNode> Nodes, int? ReplicasPerNode), Task<IReadOnlyList<T>>> perPool,
        Func<T, string?> errorOf,
        Action<IReadOnlyList<(string Pool, T Result)>> show,
        string next,
        CancellationToken cancellationToken)
    {
        if (LoadPools(poolName) is not { } pools)
        {
            return ExitCodes.InvalidInput;
        }

        try
        {
            var setup = new PoolSetup(_connector(acceptNew), _context.Time, _options);
            var results = new List<(string Pool, T Result)>();
            foreach (var pool in pools)
            {
                results.AddRange((await perPool(setup, pool)).Select(r => (pool.Pool, r)));
            }

            show(results);
            return Report(results.Select(r => errorOf(r.Result)), next);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return ExitCodes.Cancelled;
        }
    }


    private int Report(IEnumerable<string?> errors, string next)
    {
        var failed = errors.OfType<string>().ToList();
        foreach (var error in failed)
        {
            _context.Error.WriteLine($"error: {error}");
        }

        if (failed.Count == 0)
        {
            return ExitCodes.Success;
        }

        _context.Error.WriteLine($"{failed.Count} node(s) failed; fix what each line says, then run {next}.");
        return ExitCodes.Failure;
    }

    private int Fail(int code, string message)
    {
        _context.Error.WriteLine($"error: {message}");
        return code;
    }

    private void WriteJson(object value) => _context.Out.WriteLine(JsonSerializer.Serialize(value, Json));

    private static object FactsJson(NodeFacts f) => new
    {
        cores = f.Cores,
        memory_total_bytes = f.MemoryTotalBytes,
        memory_available_bytes = f.MemoryAvailableBytes,
        disk_free_bytes = f.DiskFreeBytes,
        cpu_flags = f.CpuFlags.Order(StringComparer.Ordinal),
        simd = f.Simd,
        kernel = f.Kernel,
        arch = f.Arch,
        systemd = f.Systemd,
        runtime = f.RuntimeMode.ToString().ToLowerInvariant(),
        root = f.Layout.Root,
        wf_version = f.WfVersion,
        replicas = f.Replicas.Select(r => new
        {
            name = NodeLayout.ReplicaName(r.Replica.Service, r.Replica.ReplicaId),
            state = r.Status.State.ToString().ToLowerInvariant(),
            pid = r.Replica.Pid,
            port = r.Replica.Port,
            exit_code = r.Status.ExitCode,
        }),
    };

    private static string Running(NodeFacts f)
    {
        var running = f.Replicas.Where(r => r.Status.State == Service.Providers.ProviderReplicaState.Running).ToList();
        return running.Count == 0 ? "0" : $"{running.Count} ({string.Join(", ", running.Select(r => NodeLayout.ReplicaName(r.Replica.Service, r.Replica.ReplicaId)))})";
    }

    private static string Describe(InstallResult file) =>
        $"{Path.GetFileName(file.RemotePath)}: " + file.Outcome switch
        {
            InstallOutcome.Skipped => "present",
            InstallOutcome.Resumed => $"resumed, {Mb(file.BytesSent)} sent",
            _ => $"{Mb(file.BytesSent)} sent",
        };

    private static string Gib(long bytes) => (bytes / (1024.0 * 1024 * 1024)).ToString("0.#", CultureInfo.InvariantCulture) + " GiB";

    private static string Mb(long bytes) => (bytes / 1e6).ToString("0.#", CultureInfo.InvariantCulture) + " MB";

    private static Option<string?> PoolOption() => new("--pool") { Description = "Only this pool of ssh_node_pools.yaml (default: every pool)." };

    private static Option<bool> JsonOption() => new("--json") { Description = "Print the result per node as JSON." };

    // A single-file wf has no assembly location; only then is this very file what the nodes should run.
    private static string? RunningSingleFile() =>
        Assembly.GetEntryAssembly()?.Location is { Length: 0 } && Environment.ProcessPath is { } path ? path : null;

    private sealed class InlineProgress(Action<(SshNode Node, string File, long Done, long Total)> report) : IProgress<(SshNode Node, string File, long Done, long Total)>
    {
        public void Report((SshNode Node, string File, long Done, long Total) value) => report(value);
    }
}
