using WrinkleFree.Service.Controller;
using WrinkleFree.Service.Spec;
using WrinkleFree.Testing;

namespace WrinkleFree.Service.Tests.Spec;

/// <summary>
/// <see cref="ServicePlan"/>: tier capacities after the provider, use_spot and resource checks, the command each replica
/// runs, and the errors (key path, line, column) that --force turns into warnings. Machines are made up, so the results
/// do not depend on the machine the tests run on.
/// </summary>
public sealed class ServicePlanTests
{
    private static readonly MachineShape Small = new(2, 3.8);
    private static readonly MachineShape Big = new(32, 128);

    private static ServicePlanContext On(MachineShape machine, bool force = false) =>
        new() { Machine = machine, Force = force, DefaultModelPath = "/models/default.gguf" };

    private static ServicePlan Plan(string yaml, MachineShape machine, bool force = false, string? source = null) =>
        ServicePlan.Parse(yaml, source, On(machine, force));

    private static ServiceSpecException Refused(string yaml, MachineShape machine, bool force = false) =>
        Assert.Throws<ServiceSpecException>(() => Plan(yaml, machine, force));

    [Fact]
    public void Parse_CpusNoMachineMeets_ErrorNamesTheKeyTheMachineAndForce()
    {
        var error = Refused("resources:\n  cpus: 16+\n  memory: 256+\n", Small);

        Assert.Equal("resources.cpus (line 2, column 9): 16+ needs 16 cores, this machine (local tier 'local') has 2; pass --force to run anyway", error.Message);
    }

    [Fact]
    public void Parse_MemoryBinds_ErrorNamesMemory()
    {
        var error = Refused("resources:\n  cpus: 1\n  memory: 64+\n", Small);

        Assert.Equal("resources.memory", error.KeyPath);
        Assert.Equal((3, 11), (error.Line, error.Column));
        Assert.Contains("64+ needs 64 GiB of memory, this machine (local tier 'local') has 3.8 GiB", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_ResourcesForced_WarningAndCapacityAsWrittenThreadsClamped()
    {
        var plan = Plan("resources:\n  cpus: 16+\ntiers:\n  - {name: here, provider: local, capacity: 3}\n", Small, force: true);

        var tier = Assert.Single(plan.Tiers);
        Assert.Equal((3, 3), (tier.Capacity, tier.WrittenCapacity));
        Assert.Equal(["resources.cpus: 16+ needs 16 cores, this machine (local tier 'here') has 2; tier capacity left as written (--force)"], plan.Warnings);
        Assert.Equal("2", plan.Replica.Envs["NUM_THREADS"]);
        Assert.Contains("at most this machine's 2 cores", plan.Replica.DerivedEnvs["NUM_THREADS"], StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_ResourcesFit_CapacityIsWhatTheMachineHolds()
    {
        var plan = Plan("resources:\n  cpus: 8\n  memory: 4x\n", Big); // 32 / 8 cores = 4; 128 / (4 x 8) GiB = 4

        Assert.Equal(4, plan.Tiers.Single().Capacity);
        Assert.Equal(TierSpec.UnlimitedCapacity, plan.Tiers.Single().WrittenCapacity);
        Assert.Contains("fit 4 replicas of 8 cores, 32 GiB", plan.Tiers.Single().Note, StringComparison.Ordinal);
        Assert.Empty(plan.Warnings);
    }

    [Fact]
    public void Parse_TwoLocalTiers_ShareTheMachineCheapestFirst()
    {
        const string Yaml = """
            resources: {cpus: 8}
            tiers:
              - {name: dear, provider: local, cost_per_hour: 1}
              - {name: cheap, provider: local, capacity: 3, cost_per_hour: 0}
            """;

        var plan = Plan(Yaml, Big);

        Assert.Equal([("dear", 1), ("cheap", 3)], plan.Tiers.Select(t => (t.Name, t.Capacity)));
    }

    [Fact]
    public void Parse_MinReplicasDoNotFit_ErrorSaysHowManyFit()
    {
        var error = Refused("service:\n  replicas: 5\nresources:\n  cpus: 8\n", Big);

        Assert.Equal("resources.cpus", error.KeyPath);
        Assert.Contains("5 replicas (min_replicas) of 8 cores do not fit: this machine (local tier 'local') fits 4", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_UseSpotWithASpotTier_OtherTiersGetNothing()
    {
        const string Yaml = """
            resources: {use_spot: true}
            tiers:
              - {name: steady, provider: local, capacity: 2}
              - {name: preemptible, provider: local, spot: true, cost_per_hour: 0.1}
            """;

        var plan = Plan(Yaml, Big);

        Assert.Equal([("steady", 0), ("preemptible", TierSpec.UnlimitedCapacity)], plan.Tiers.Select(t => (t.Name, t.Capacity)));
        Assert.Equal("not spot, and resources.use_spot is true", plan.Tiers[0].Note);
    }

    [Fact]
    public void Parse_UseSpotWithoutASpotTier_ErrorNamesTheTiersAndForceUsesThem()
    {
        const string Yaml = "resources:\n  use_spot: true\ntiers:\n  - {name: a, provider: local}\n  - {name: b, provider: local}\n";

        var error = Refused(Yaml, Big);
        var plan = Plan(Yaml, Big, force: true);

        Assert.Equal("resources.use_spot (line 2, column 13): true puts replicas only on tiers with spot: true, and no tier that can take replicas here is spot ('a', 'b'); add a tier with spot: true, or pass --force to use these tiers", error.Message);
        Assert.All(plan.Tiers, t => Assert.Equal(TierSpec.UnlimitedCapacity, t.Capacity));
        Assert.Single(plan.Warnings);
    }

    [Fact]
    public void Parse_ProviderFoundRoom_TierHoldsTheSmallerOfItAndTheWrittenCapacity()
    {
        const string Yaml = "service:\n  replicas: 2\ntiers:\n  - {name: hetzner, provider: ssh, capacity: 3, settings: {pool: base}}\n"
            + "  - {name: metal, provider: ssh, settings: {pool: other}}\n  - {name: local, provider: local}\n";
        var context = On(Big) with
        {
            Providers = ["local", "ssh"],
            ProviderCapacities = new Dictionary<string, WrinkleFree.Service.Providers.TierCapacity>
            {
                ["hetzner"] = new(6, "3 of 3 nodes answer, 2 replicas each"),
                ["metal"] = new(1, "1 of 2 nodes answer, 1 replica each"),
            },
        };

        var plan = ServicePlan.Parse(Yaml, null, context);

        Assert.Equal([3, 1, TierSpec.UnlimitedCapacity], plan.Tiers.Select(t => t.Capacity));
        Assert.Equal("3 of 3 nodes answer, 2 replicas each; capacity 3 as written", plan.Tiers[0].Note);
        Assert.Equal("1 of 2 nodes answer, 1 replica each", plan.Tiers[1].Note);
    }

    [Fact]
    public void Parse_ProviderFoundNoRoomAnywhere_RefusedNamingEachTiersNote()
    {
        const string Yaml = "tiers:\n  - {name: hetzner, provider: ssh, settings: {pool: base}}\n";
        var context = On(Big) with
        {
            Providers = ["local", "ssh"],
            ProviderCapacities = new Dictionary<string, WrinkleFree.Service.Providers.TierCapacity> { ["hetzner"] = new(0, "0 of 3 nodes answer") },
        };

        var error = Assert.Throws<ServiceSpecException>(() => ServicePlan.Parse(Yaml, null, context));

        Assert.Contains("'hetzner' 0 (0 of 3 nodes answer)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_TierWhoseProviderCannotLaunch_ErrorNamesTierProviderAndIssue()
    {
        const string Yaml = "tiers:\n  - {name: local, provider: local}\n  - {name: hetzner, provider: ssh, capacity: 3}\n";

        var error = Refused(Yaml, Big);
        var plan = Plan(Yaml, Big, force: true);

        Assert.Equal("tiers[1].provider (line 3, column 31): tier 'hetzner': provider ssh cannot launch replicas yet (issue 13); remove the tier, or pass --force to run without it", error.Message);
        Assert.Equal([TierSpec.UnlimitedCapacity, 0], plan.Tiers.Select(t => t.Capacity));
        Assert.Equal(["tiers[1].provider: tier 'hetzner': provider ssh cannot launch replicas yet (issue 13); its capacity is 0 (--force)"], plan.Warnings);
    }

    [Theory]
    [InlineData("resources:\n  accelerators: A100:1\n", "resources.accelerators", "replicas run on CPUs")]
    [InlineData("resources:\n  infra: aws\n", "resources.infra", "a cloud tier places replicas by its own settings")]
    [InlineData("file_mounts:\n  /data: /tmp\n", "file_mounts", "no provider mounts files yet")]
    [InlineData("resources:\n  spot_recovery: {strategy: FAILOVER, max_restarts_on_errors: 3}\n", "resources.job_recovery.max_restarts_on_errors", "restart count")]
    public void Parse_KeyNotActedOn_RefusedNamingItUnlessForced(string yaml, string keyPath, string why)
    {
        var error = Refused(yaml, Big);
        var plan = Plan(yaml, Big, force: true);

        Assert.Equal(keyPath, error.KeyPath);
        Assert.True(error.Line > 0, error.Message);
        Assert.Contains("is accepted but not acted on", error.Message, StringComparison.Ordinal);
        Assert.Contains(why, error.Message, StringComparison.Ordinal);
        Assert.EndsWith("remove it, or pass --force to run without it", error.Message, StringComparison.Ordinal);
        Assert.Contains(plan.Warnings, w => w.StartsWith(keyPath + ": ", StringComparison.Ordinal) && w.EndsWith("ignored (--force)", StringComparison.Ordinal));
    }

    [Fact]
    public void Parse_SpotFallbackKeys_AcceptedWithoutWarning()
    {
        var plan = Plan("replica_policy:\n  min_replicas: 1\n  num_overprovision: 2\n  base_ondemand_fallback_replicas: 1\n  dynamic_ondemand_fallback: true\n", Big);

        Assert.Empty(plan.Warnings);
    }

    [Fact]
    public void Parse_PortRange_RefusedEvenWithForce()
    {
        var error = Refused("resources:\n  ports: 8080-8090\n", Big, force: true);

        Assert.Equal("resources.ports", error.KeyPath);
        Assert.Contains("a replica serves on one port, got '8080-8090'", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("resources:\n  ports: 8080\n", 8080)]
    [InlineData("service:\n  ports: 9000\nresources:\n  ports: 8080\n", 9000)]
    [InlineData("name: x\n", null)]
    public void Parse_Ports_AreThePortHint(string yaml, int? hint)
    {
        Assert.Equal(hint, Plan(yaml, Big).Replica.PortHint);
    }

    [Fact]
    public void Parse_NoRun_WfReplicaWithTheDefaultModelAndThreadsFromCpus()
    {
        var plan = Plan("resources:\n  cpus: 4+\nenvs:\n  CONTEXT_SIZE: 2048\n  MLOCK: true\n", Big);

        Assert.Equal(["wf", "replica"], plan.Replica.Argv);
        Assert.Null(plan.Replica.Run);
        Assert.Equal(new Dictionary<string, string> { ["CONTEXT_SIZE"] = "2048", ["MLOCK"] = "true", ["NUM_THREADS"] = "4", ["MODEL_PATH"] = "/models/default.gguf" }, plan.Replica.Envs);
        Assert.Equal(["MODEL_PATH", "NUM_THREADS"], plan.Replica.DerivedEnvs.Keys.Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("envs:\n  MODEL_PATH: /m.gguf\n  NUM_THREADS: 3\nresources:\n  cpus: 8\n", "/m.gguf", "3")]
    [InlineData("envs:\n  BACKEND: vllm\n  WF_UPSTREAM_URL: http://127.0.0.1:8000\n", null, null)]
    [InlineData("run: python -m inference_server --model /given.gguf\n", null, null)]
    public void Parse_EnvsGiven_WinOverTheDerivedOnes(string yaml, string? modelPath, string? threads)
    {
        var envs = Plan(yaml, Big).Replica.Envs;

        Assert.Equal(modelPath, envs.GetValueOrDefault("MODEL_PATH"));
        Assert.Equal(threads, envs.GetValueOrDefault("NUM_THREADS"));
    }

    [Fact]
    public void Parse_BadBackend_ErrorAtTheEnv()
    {
        var error = Refused("envs:\n  BACKEND: onnx\n", Big);

        Assert.Equal("envs.BACKEND (line 2, column 12): must be bitnet or vllm (the replica server's backends), got 'onnx'", error.Message);
    }

    [Fact]
    public void Parse_OtherRunScript_RunsAsWrittenWithTheSpecsEnvsOnly()
    {
        var plan = Plan("resources:\n  cpus: 4\nenvs:\n  A: b\nrun: |\n  python -m inference_server --model \"$MODEL_PATH\"\n", Big);

        Assert.Null(plan.Replica.Argv);
        Assert.Equal("python -m inference_server --model \"$MODEL_PATH\"\n", plan.Replica.Run);
        Assert.Equal(new Dictionary<string, string> { ["A"] = "b" }, plan.Replica.Envs);
        Assert.Contains(plan.Warnings, w => w.StartsWith("run: mentions inference_server", StringComparison.Ordinal));
    }

    [Fact]
    public void Parse_Workdir_RelativeToTheSpecsFolderAndMustExist()
    {
        using var dir = new TempDirectory("wf-service-tests");
        var work = dir.Sub("work");
        var spec = Path.Combine(dir.Path, "svc.yaml");
        var context = On(Big) with { SpecDirectory = dir.Path };

        var plan = ServicePlan.Parse("workdir: work\nsetup: echo hi\n", spec, context);
        var missing = Assert.Throws<ServiceSpecException>(() => ServicePlan.Parse("workdir: nope\n", spec, context));
        var noFolder = Assert.Throws<ServiceSpecException>(() => ServicePlan.Parse("workdir: work\n", spec, On(Big)));

        Assert.Equal(work, plan.Spec.Workdir);
        Assert.Equal((work, "echo hi"), (plan.Replica.Workdir, plan.Replica.Setup));
        Assert.Equal($"{spec}: workdir (line 1, column 10): folder '{Path.Combine(dir.Path, "nope")}' does not exist", missing.Message);
        Assert.Contains("must be an absolute path here", noFolder.Message, StringComparison.Ordinal);
        Assert.Equal(plan.Spec, ServiceSpecParser.Parse(plan.Spec.ToYaml()));
    }

    [Theory]
    [InlineData(null, null, "/deploy/service-dev.yaml", "service-dev")]
    [InlineData(null, "named", "/deploy/service-dev.yaml", "named")]
    [InlineData("given", "named", "/deploy/service-dev.yaml", "given")]
    [InlineData(null, null, "/deploy/1-bad name.yaml", ServicePlan.DefaultName)]
    [InlineData(null, null, null, ServicePlan.DefaultName)]
    public void NameFor_Sources_GivenThenSpecThenFileName(string? given, string? specName, string? source, string expected)
    {
        Assert.Equal(expected, ServicePlan.NameFor(given, new ServiceSpec { Name = specName }, source));
    }

    [Fact]
    public void ToTiers_StoredSpec_CapacitiesFromThePlanWithoutRefusing()
    {
        var fits = ServiceSpecParser.Parse("resources:\n  cpus: 8\n");
        var tooBig = ServiceSpecParser.Parse("resources:\n  cpus: 64\n");

        Assert.Equal(4, SpecMapping.ToTiers(fits, machine: Big).Single().Capacity);
        Assert.Null(SpecMapping.ToTiers(tooBig, machine: Big).Single().Capacity); // created with --force: as written
    }

    [Fact]
    public void Parse_Autoscaling_DescribedFromThePolicy()
    {
        var fixedPlan = Plan("service:\n  replicas: 2\n", Big);
        var scaled = Plan("replica_policy:\n  min_replicas: 0\n  max_replicas: 4\n  target_qps_per_replica: 2.5\n", Big);

        Assert.StartsWith("fixed at 2 replicas", fixedPlan.Autoscaling, StringComparison.Ordinal);
        Assert.StartsWith("between 0 and 4 replicas at 2.5 QPS per replica", scaled.Autoscaling, StringComparison.Ordinal);
        Assert.Contains("the first request starts one and waits up to 60 s", scaled.Autoscaling, StringComparison.Ordinal);
        Assert.StartsWith("GET /health every 10 s", scaled.ReadinessProbe, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_ModelFileMissingHere_WarnsNamingTheFileAndKey()
    {
        var missing = "/nonexistent-" + Guid.NewGuid().ToString("N") + "/m.gguf";
        var fromEnv = Plan($"envs:\n  MODEL_PATH: {missing}\n", Big);
        Assert.Equal([$"envs.MODEL_PATH: model file '{missing}' does not exist on this machine: replicas on local tiers will fail until it does"], fromEnv.Warnings);

        var fromRun = Plan($"run: python -m inference_server --model {missing}\n", Big);
        Assert.Equal([$"run: model file '{missing}' does not exist on this machine: replicas on local tiers will fail until it does"], fromRun.Warnings);

        // A setup: may fetch it; the default model is the CLI's own.
        Assert.Empty(Plan($"setup: fetch-model\nenvs:\n  MODEL_PATH: {missing}\n", Big).Warnings);
        Assert.Empty(Plan("resources:\n  cpus: 1\n", Big).Warnings);
    }
}
