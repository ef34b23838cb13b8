using System.Text.Json;
using WrinkleFree.Platform.Home;
using WrinkleFree.Service.Spec;
using WrinkleFree.Testing;

namespace WrinkleFree.Cli.Tests;

/// <summary>
/// `wf validate SPEC` and `wf up SPEC --dry-run` in-process, on a made-up 2-core machine like CI's: the plan of the shipped
/// deploy/ YAMLs, exit 2 with the error naming key, line and column, --force turning it into a warning, and nothing started.
/// </summary>
public sealed class ValidateCommandTests
{
    private static readonly MachineShape Ci = new(2, 7.5);

    private static string Deploy(string file) => Path.Combine(RepositoryPaths.Root, "deploy", file);

    [Fact]
    public async Task Validate_ServiceDevOnTwoCores_ExitTwoNamingCpusLineAndColumn()
    {
        using var console = new InProcessConsole(machine: Ci);

        var code = await console.RunAsync("validate", Deploy("service-dev.yaml"));

        Assert.Equal(ExitCodes.InvalidInput, code);
        Assert.Equal("", console.Stdout);
        Assert.Equal(
            $"error: {Deploy("service-dev.yaml")}: resources.cpus (line 7, column 9): 8+ needs 8 cores, this machine (local tier 'local') has 2; pass --force to run anyway\n",
            console.Stderr);
    }

    [Fact]
    public async Task Validate_ServiceDevForced_PrintsThePlanWithWfReplicaAndAWarning()
    {
        using var console = new InProcessConsole(machine: Ci);

        var code = await console.RunAsync("validate", Deploy("service-dev.yaml"), "--force");

        Assert.True(code == ExitCodes.Success, console.Stderr);
        var stdout = console.Stdout;
        Assert.Contains($"service service-dev ({Deploy("service-dev.yaml")}): valid; nothing was started", stdout, StringComparison.Ordinal);
        Assert.Contains("replicas: 1 to 1: fixed at 1 replica", stdout, StringComparison.Ordinal);
        Assert.Contains("readiness probe: GET /health every 10 s", stdout, StringComparison.Ordinal);
        Assert.Contains("  command: wf replica --backend bitnet --model /models/dev.gguf  (no shell", stdout, StringComparison.Ordinal);
        Assert.Contains("python -m inference_server ARGS, the design's name for the replica server", stdout, StringComparison.Ordinal);
        Assert.Contains("NUM_THREADS=2 (resources.cpus 8+, at most this machine's 2 cores)", stdout, StringComparison.Ordinal);
        Assert.Matches(@"(?m)^local\s+local\s+unlimited\s+unlimited\s+\$0\.00\s+no\s+8 cores, 64 GiB per replica does not fit", stdout);
        Assert.Equal("warning: resources.cpus: 8+ needs 8 cores, this machine (local tier 'local') has 2; tier capacity left as written (--force)\n"
            + "warning: run: model file '/models/dev.gguf' does not exist on this machine: replicas on local tiers will fail until it does\n", console.Stderr);
    }

    [Fact]
    public async Task Validate_Json_CarriesTiersReplicaCommandAndWarnings()
    {
        using var console = new InProcessConsole(machine: Ci);

        var code = await console.RunAsync("validate", Deploy("service-prod.yaml"), "--force", "--json");

        Assert.True(code == ExitCodes.Success, console.Stderr);
        using var doc = JsonDocument.Parse(console.Stdout);
        var plan = doc.RootElement;
        Assert.Equal("service-prod", plan.GetProperty("name").GetString());
        Assert.Equal((3, 20), (plan.GetProperty("min_replicas").GetInt32(), plan.GetProperty("max_replicas").GetInt32()));
        var tier = plan.GetProperty("tiers")[0];
        Assert.Equal(("local", "local", JsonValueKind.Null), (tier.GetProperty("name").GetString(), tier.GetProperty("provider").GetString(), tier.GetProperty("capacity").ValueKind));
        var replica = plan.GetProperty("replica");
        Assert.Equal(["wf", "replica"], replica.GetProperty("argv").EnumerateArray().Select(a => a.GetString()));
        Assert.Equal(8080, replica.GetProperty("port_hint").GetInt32());
        Assert.Equal(["MODEL_PATH", "NUM_THREADS"], replica.GetProperty("envs").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("2", replica.GetProperty("derived").GetProperty("NUM_THREADS").GetProperty("value").GetString());
        Assert.Contains("default model", replica.GetProperty("derived").GetProperty("MODEL_PATH").GetProperty("from").GetString(), StringComparison.Ordinal);
        Assert.Contains("resources.cpus: 16+ needs 16 cores", plan.GetProperty("warnings")[0].GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_Hybrid_EveryTiersProviderIsLaunchable()
    {
        using var console = new InProcessConsole(machine: Ci);

        var code = await console.RunAsync("validate", Deploy("service-hybrid.yaml"));

        // The ssh, kubernetes and cloud tiers are launchable (their pool, cluster and cloud are checked by the daemon at `wf up`).
        Assert.True(code == ExitCodes.Success, console.Stderr);
        Assert.DoesNotContain("cannot launch replicas yet", console.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UpDryRun_SpotForced_PrintsThePlanAndStartsNoDaemon()
    {
        using var console = new InProcessConsole(machine: Ci);

        var code = await console.RunAsync("up", Deploy("service-spot.yaml"), "--dry-run", "--force");

        Assert.True(code == ExitCodes.Success, console.Stderr);
        Assert.Contains("service service-spot", console.Stdout, StringComparison.Ordinal);
        Assert.Contains("recovery: EAGER_NEXT_REGION (job_recovery)", console.Stdout, StringComparison.Ordinal);
        Assert.Contains("at zero replicas (when idle) the first request starts one", console.Stdout, StringComparison.Ordinal);
        Assert.Contains("warning: resources.use_spot: true puts replicas only on tiers with spot: true", console.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(console.Home, "daemon.json")));
        Assert.False(File.Exists(Path.Combine(WfHome.Logs(console.Home), "daemon.log")));
    }

    [Fact]
    public async Task Up_HostileSpecs_SpecErrorInsteadOfACrash()
    {
        // A 100k-deep sequence once overflowed the stack of `wf up` (no catch survives that); replicas: 2147483647 was
        // accepted and made the daemon plan without bound.
        using var console = new InProcessConsole(machine: Ci);
        using var dir = new TempDirectory("wf-cli-tests");
        var deep = Path.Combine(dir.Path, "deep.yaml");
        await File.WriteAllTextAsync(deep, "run: echo\nfile_mounts:\n  /a:\n    " + string.Concat(Enumerable.Repeat("- ", 100_000)) + "x\n");
        var huge = Path.Combine(dir.Path, "huge.yaml");
        await File.WriteAllTextAsync(huge, "service:\n  replicas: 2147483647\nrun: exec wf replica\n");

        var deepCode = await console.RunAsync("up", deep, "--dry-run");
        var hugeCode = await console.RunAsync("up", huge, "--dry-run");

        Assert.Equal(ExitCodes.InvalidInput, deepCode);
        Assert.True(console.Stderr.Contains("line 4, column 129: the document nests deeper than 64 levels", StringComparison.Ordinal), console.Stderr);
        Assert.Equal(ExitCodes.InvalidInput, hugeCode);
        Assert.Contains("service.replicas (line 2, column 13): must be <= 10000 replicas, got 2147483647", console.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UpDryRun_WorkdirMissingOrSetup_ResolvedAgainstTheSpecsFolder()
    {
        using var console = new InProcessConsole(machine: Ci);
        using var dir = new TempDirectory("wf-cli-tests");
        var spec = Path.Combine(dir.Path, "svc.yaml");
        await File.WriteAllTextAsync(spec, "workdir: app\nsetup: ./prepare.sh\nrun: exec wf replica\n");

        var missing = await console.RunAsync("up", spec, "--dry-run");
        Directory.CreateDirectory(Path.Combine(dir.Path, "app"));
        var present = await console.RunAsync("validate", spec);

        Assert.Equal(ExitCodes.InvalidInput, missing);
        Assert.Contains($"workdir (line 1, column 10): folder '{Path.Combine(dir.Path, "app")}' does not exist", console.Stderr, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.Success, present);
        Assert.Contains($"  in: {Path.Combine(dir.Path, "app")}", console.Stdout, StringComparison.Ordinal);
        Assert.Contains("  setup, once before the command", console.Stdout, StringComparison.Ordinal);
        Assert.Contains("    ./prepare.sh", console.Stdout, StringComparison.Ordinal);
        Assert.Contains("  run script (/bin/sh -c):\n    exec wf replica\n", console.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_MissingFile_ExitTwo()
    {
        using var console = new InProcessConsole(machine: Ci);

        Assert.Equal(ExitCodes.InvalidInput, await console.RunAsync("validate", Path.Combine(console.Home, "nope.yaml")));
        Assert.Contains("does not exist", console.Stderr, StringComparison.Ordinal);
    }
}
