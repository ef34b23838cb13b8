using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using WrinkleFree.Service.Daemon;
using WrinkleFree.Service.Tests.Providers;
using WrinkleFree.Service.Tests.State;
using WrinkleFree.Testing;

namespace WrinkleFree.Service.Tests.Integration;

/// <summary>
/// The design's three deployment YAMLs, as written, through the real `wf up` of the serving build: each comes up on this
/// machine (--force, as they ask for more cores, memory or spot than CI has) with real `wf replica` processes serving the
/// tiny model, answers a completion through its service endpoint (pattern 3 from zero), and goes with `wf down`. One
/// daemon home for the class; pattern 1's model path points at the repository's tiny model, patterns 2 and 3 name no
/// model and get the default one.
/// </summary>
public sealed class DesignSpecTests(DesignSpecTests.Daemon daemon) : IClassFixture<DesignSpecTests.Daemon>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(120);

    private static string TinyModel => Path.Combine(RepositoryPaths.Root, "models", "wrinklefree-tiny.gguf");

    [Fact]
    public async Task Up_Pattern1Dev_PythonInferenceServerRunsWfReplicaAndAnswers()
    {
        var spec = daemon.WriteSpec("service-dev.yaml", Design("service-dev.yaml").Replace("/models/dev.gguf", TinyModel, StringComparison.Ordinal));

        var view = await daemon.UpAndCompleteAsync(spec, "service-dev", expectedReplicas: 1, down: false);

        try
        {
            var replica = Assert.Single(view.Replicas);
            var log = await daemon.LogsAsync("service-dev", replica.Id);
            Assert.Contains($"listening on {replica.Endpoint}", log, StringComparison.Ordinal);
            if (!OperatingSystem.IsWindows())
                AssertOwnerOnly(daemon.Home);
        }
        finally
        {
            await daemon.DownAsync("service-dev");
        }
    }

    /// <summary>
    /// Everything the CLI, supervisor, daemon, endpoint and replica made in the home (state, daemon.json, logs, sockets,
    /// logs) is owner-only, and the home itself, which the test created 0755, was closed to 0700. The test's own
    /// specs folder, the wf shim (an executable, no secret) and the Prometheus file_sd targets (addresses only, left
    /// readable on purpose for a Prometheus running as its own user) are not theirs to close.
    /// </summary>
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    private static void AssertOwnerOnly(string home)
    {
        const UnixFileMode others = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
            | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;
        Assert.Equal((UnixFileMode)0, File.GetUnixFileMode(home) & others);
        var open = new DirectoryInfo(home).EnumerateFileSystemInfos("*", SearchOption.AllDirectories)
            .Where(f => !f.FullName.StartsWith(Path.Combine(home, "specs"), StringComparison.Ordinal)
                && !f.FullName.StartsWith(Path.Combine(home, "bin"), StringComparison.Ordinal)
                && !f.FullName.StartsWith(Path.Combine(home, "prometheus"), StringComparison.Ordinal))
            .Where(f => (f.UnixFileMode & others) != 0)
            .Select(f => $"{Path.GetRelativePath(home, f.FullName)} {Convert.ToString((int)f.UnixFileMode, 8)}")
            .ToList();
        Assert.True(open.Count == 0, "readable by others: " + string.Join(", ", open));
        var targets = Path.Combine(home, "prometheus");
        Assert.Equal(UnixFileMode.OtherRead | UnixFileMode.OtherExecute, File.GetUnixFileMode(targets) & others & ~UnixFileMode.GroupRead & ~UnixFileMode.GroupExecute);
        Assert.Equal(UnixFileMode.OtherRead, File.GetUnixFileMode(Path.Combine(targets, "services.json")) & (UnixFileMode.OtherRead | UnixFileMode.OtherWrite));
        Assert.True(File.Exists(Path.Combine(home, "state.db")));
    }

    [Fact]
    public async Task Up_Pattern2Prod_ThreeReplicasOfTheDefaultModelAnswer()
    {
        var spec = daemon.WriteSpec("service-prod.yaml", Design("service-prod.yaml"));

        var view = await daemon.UpAndCompleteAsync(spec, "service-prod", expectedReplicas: 3);

        Assert.All(view.Replicas, r => Assert.Equal("local", r.Tier));
    }

    [Fact]
    public async Task Up_Pattern3Spot_ScalesFromZeroOnTheFirstRequest()
    {
        var spec = daemon.WriteSpec("service-spot.yaml", Design("service-spot.yaml"));

        var up = await daemon.Wf.RunAsync("up", spec, "--force");

        Assert.True(up.ExitCode == 0, up.Stderr);
        Assert.Contains("service service-spot scales from zero", up.Stdout, StringComparison.Ordinal);
        Assert.Contains("warning: resources.use_spot: true", up.Stderr, StringComparison.Ordinal);
        var view = await daemon.GetAsync("service-spot");
        Assert.Empty(view.Replicas);
        await daemon.CompleteAsync(view.Endpoint);
        Assert.Single((await daemon.GetAsync("service-spot")).Replicas);
        await daemon.DownAsync("service-spot");
    }

    [Fact]
    public async Task Up_SetupAndRelativeWorkdir_SetupRunsInTheSpecsFolderBeforeTheReplica()
    {
        var app = Directory.CreateDirectory(Path.Combine(daemon.Specs, "app")).FullName;
        var spec = daemon.WriteSpec("with-setup.yaml", $$"""
            workdir: app
            setup: |
              echo "setup in $(pwd) for $WF_SERVICE replica $WF_REPLICA_ID with $BACKEND" > setup-ran.txt
            envs:
              BACKEND: bitnet
              MODEL_PATH: {{JsonSerializer.Serialize(TinyModel)}}
            """);

        var view = await daemon.UpAndCompleteAsync(spec, "with-setup", expectedReplicas: 1, down: false);

        var replica = Assert.Single(view.Replicas);
        Assert.Equal($"setup in {app} for with-setup replica {replica.Id} with bitnet", (await File.ReadAllTextAsync(Path.Combine(app, "setup-ran.txt"))).Trim());
        Assert.Contains("--- wf: setup done; starting the replica ---", await daemon.LogsAsync("with-setup", replica.Id), StringComparison.Ordinal);
        await daemon.DownAsync("with-setup");
    }

    /// <summary>The design's YAML: deploy/FILE without its comment lines.</summary>
    private static string Design(string file) =>
        string.Join('\n', File.ReadAllLines(Path.Combine(RepositoryPaths.Root, "deploy", file)).Where(l => !l.StartsWith('#'))) + "\n";

    /// <summary>One WF home and daemon for the class; every replica and the daemon are killed at the end whatever happened.</summary>
    public sealed class Daemon : IDisposable
    {
        private readonly TempHome _home = new();
        private readonly HashSet<int> _pids = [];
        private readonly HttpClient _http = new() { Timeout = Deadline };

        public Daemon()
        {
            Wf = new WfCli(_home.Path);
            Specs = Directory.CreateDirectory(Path.Combine(_home.Path, "specs")).FullName;
        }

        internal WfCli Wf { get; }

        /// <summary>The daemon's WF_HOME.</summary>
        public string Home => _home.Path;

        /// <summary>Where the specs are written (their names become the services' names).</summary>
        public string Specs { get; }

        public string WriteSpec(string name, string yaml)
        {
            var path = Path.Combine(Specs, name);
            File.WriteAllText(path, yaml);
            return path;
        }

        /// <summary>`wf up SPEC --force --detach`, waits for the replicas to be ready, sends a completion, then `wf down` unless told not to.</summary>
        public async Task<ServiceView> UpAndCompleteAsync(string spec, string name, int expectedReplicas, bool down = true)
        {
            var up = await Wf.RunAsync("up", spec, "--force", "--detach");
            Assert.True(up.ExitCode == 0, up.Stderr);
            Assert.Contains($"service {name}: http://127.0.0.1:", up.Stdout, StringComparison.Ordinal);
            var view = await WaitAsync(name, v => v.ReadyReplicas == expectedReplicas && v.Replicas.Count == expectedReplicas);
            await CompleteAsync(view.Endpoint);
            if (down)
                await DownAsync(name);
            return view;
        }

        public async Task CompleteAsync(string endpoint)
        {
            using var response = await _http.PostAsJsonAsync(new Uri(new Uri(endpoint), "/v1/completions"), new { prompt = "Once upon a time", max_tokens = 4 });
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"HTTP {(int)response.StatusCode}: {body}");
            using var doc = JsonDocument.Parse(body);
            Assert.Equal("text_completion", doc.RootElement.GetProperty("object").GetString());
            Assert.Equal(4, doc.RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        }

        public async Task DownAsync(string name)
        {
            var down = await Wf.RunAsync("down", name);
            Assert.True(down.ExitCode == 0, down.Stderr);
            Assert.All(_pids, pid => Assert.False(ProviderTestSupport.IsAlive(pid), $"replica pid {pid} still runs after `wf down {name}`"));
        }

        /// <summary>The service as the daemon shows it; every replica pid seen is remembered, to be checked gone and killed at the end.</summary>
        public async Task<ServiceView> GetAsync(string name)
        {
            using var client = (await DaemonClient.ConnectAsync(_home.Path, CancellationToken.None).WaitAsync(Deadline))!;
            var view = await client.GetAsync(name, CancellationToken.None).WaitAsync(Deadline);
            foreach (var r in view.Replicas)
            {
                if (r.Pid is { } pid)
                    _pids.Add(pid);
            }
            return view;
        }

        public async Task<string> LogsAsync(string name, int replica)
        {
            var logs = await Wf.RunAsync("logs", name, replica.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Assert.True(logs.ExitCode == 0, logs.Stderr);
            return logs.Stdout;
        }

        private async Task<ServiceView> WaitAsync(string name, Func<ServiceView, bool> condition)
        {
            var deadline = DateTime.UtcNow + Deadline;
            while (true)
            {
                var view = await GetAsync(name);
                if (condition(view))
                    return view;
                if (DateTime.UtcNow > deadline)
                {
                    var log = view.Replicas.FirstOrDefault() is { } first ? await LogsAsync(name, first.Id) : "(no replica)";
                    Assert.Fail($"{name} not ready in {Deadline}: " + string.Join(", ", view.Replicas.Select(r => $"{r.Id}:{r.Status}")) + "\n" + log);
                }
                await Task.Delay(200);
            }
        }

        public void Dispose()
        {
            // The supervisor first (else it starts another daemon), then the daemon, endpoints and replicas.
            WfServiceCommandTests.KillBackground(_home.Path, _pids);
            _http.Dispose();
            _home.Dispose();
        }
    }
}
