using System.Text.Json.Nodes;
using WrinkleFree.Providers.Ssh.Pools;
using WrinkleFree.Testing;

namespace WrinkleFree.Cli.Tests.Export;

/// <summary>
/// `wf export skypilot SPEC` in-process: every shipped service spec exports to YAML that SkyPilot's published schema
/// (tests/data/skypilot/, read as PyYAML reads it) accepts; keys without a SkyPilot equivalent are listed at the top;
/// ssh tiers' pools go to ssh_node_pools.yaml; a jobs task becomes a `sky jobs launch` task with job_recovery.
/// </summary>
public sealed class SkyPilotExportTests
{
    private static readonly string DeployFolder = Path.Combine(RepositoryPaths.Root, "deploy");

    public static TheoryData<string> ShippedServiceSpecs() => [.. Directory.GetFiles(DeployFolder, "*.yaml").Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal)];

    [Theory]
    [MemberData(nameof(ShippedServiceSpecs))]
    public async Task SkyPilot_ShippedServiceSpec_PassesSkyPilotSchema(string file)
    {
        using var console = new InProcessConsole();

        var code = await console.RunAsync("export", "skypilot", Path.Combine(DeployFolder, file));

        Assert.True(code == ExitCodes.Success, console.Stderr);
        var root = AssertServiceSchema(console.Stdout);
        Assert.Equal("/health", ProbePath(root["service"]!["readiness_probe"]!));
        Assert.StartsWith("wf replica", root["run"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SkyPilot_HybridSpec_MatchesSnapshotAndListsEveryUncarriedKey()
    {
        using var console = new InProcessConsole();

        var code = await console.RunAsync("export", "skypilot", Path.Combine(DeployFolder, "service-hybrid.yaml"));

        Assert.True(code == ExitCodes.Success, console.Stderr);
        Snapshot.AssertMatches(Path.Combine("skypilot", "service-hybrid.sky.yaml"), console.Stdout);
        var header = string.Join('\n', console.Stdout.Split('\n').TakeWhile(l => l.StartsWith('#')));
        foreach (var key in new[]
                 {
                     "service.readiness_probe.latency_threshold_ms", "service.replica_policy.ttft_p50_threshold_ms",
                     "service.replica_policy.queue_depth_emergency", "tiers[0].capacity", "tiers[0].cost_per_hour", "tiers[1]", "tiers[2]",
                 })
        {
            Assert.Contains($"#   {key}: ", header, StringComparison.Ordinal);
            Assert.Contains($"not carried: {key}: ", console.Stderr, StringComparison.Ordinal);
        }

        var root = PyYamlJson.Load(console.Stdout)!;
        Assert.Equal("ssh/hetzner-base", root["resources"]!["infra"]!.GetValue<string>());
        Assert.Equal("4096", root["envs"]!["CONTEXT_SIZE"]!.GetValue<string>());
        Assert.Equal("true", root["envs"]!["MLOCK"]!.GetValue<string>());
        Assert.Contains("pass --out DIR to write them to ssh_node_pools.yaml", console.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SkyPilot_SpotSpec_JobRecoveryNotSpotRecovery()
    {
        using var console = new InProcessConsole();

        var code = await console.RunAsync("export", "skypilot", Path.Combine(DeployFolder, "service-spot.yaml"));

        Assert.True(code == ExitCodes.Success, console.Stderr);
        var root = AssertServiceSchema(console.Stdout);
        Assert.Null(root["resources"]!["spot_recovery"]);
        Assert.Equal("EAGER_NEXT_REGION", root["resources"]!["job_recovery"]!["strategy"]!.GetValue<string>());
        Assert.Equal(0, root["service"]!["replica_policy"]!["min_replicas"]!.GetValue<double>());
        Assert.Contains("note: resources.spot_recovery is written as resources.job_recovery.strategy", console.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SkyPilot_PrefixAffinityPolicy_DroppedWithANote()
    {
        using var console = new InProcessConsole();
        var spec = await WriteAsync(console, "affinity.yaml", """
            name: affinity
            service:
              readiness_probe: /health
              replicas: 2
              load_balancing_policy: prefix_affinity
            tiers:
              - name: k8s
                provider: kubernetes
                settings: {context: prod}
            run: exec my-server --port "$PORT"
            """);

        var code = await console.RunAsync("export", "skypilot", spec);

        Assert.True(code == ExitCodes.Success, console.Stderr);
        var root = AssertServiceSchema(console.Stdout);
        Assert.Null(root["service"]!["load_balancing_policy"]);
        Assert.Contains("#   service.load_balancing_policy: prefix_affinity is ours", console.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SkyPilot_ProbeMappingAndFixedReplicas_SkyServeForms()
    {
        using var console = new InProcessConsole();
        var spec = await WriteAsync(console, "edge.yaml", """
            name: edge
            service:
              readiness_probe:
                path: /v1/completions
                initial_delay_seconds: 300
                post_data: {model: tiny, prompt: hi, max_tokens: 1}
                headers: {Authorization: Bearer probe}
              replicas: 2
              load_balancing_policy: power_of_two
              replica_tls: true
              ports: 9000
            tiers:
              - name: k8s
                provider: kubernetes
                settings: {context: prod, namespace: serving}
            run: |
              echo starting
              exec my-server --port "$PORT"
            """);

        var code = await console.RunAsync("export", "skypilot", spec);

        Assert.True(code == ExitCodes.Success, console.Stderr);
        var root = AssertServiceSchema(console.Stdout);
        var probe = root["service"]!["readiness_probe"]!;
        Assert.Equal("/v1/completions", probe["path"]!.GetValue<string>());
        Assert.Equal(300, probe["initial_delay_seconds"]!.GetValue<double>());
        Assert.Equal("tiny", probe["post_data"]!["model"]!.GetValue<string>());
        Assert.Equal("Bearer probe", probe["headers"]!["Authorization"]!.GetValue<string>());
        Assert.Equal(2, root["service"]!["replicas"]!.GetValue<double>());
        Assert.Null(root["service"]!["replica_policy"]);
        Assert.Null(root["service"]!["load_balancing_policy"]);
        Assert.Equal(9000, root["service"]!["ports"]!.GetValue<double>());
        Assert.Equal("k8s/prod", root["resources"]!["infra"]!.GetValue<string>());
        Assert.Equal("echo starting\nexec my-server --port \"$PORT\"\n", root["run"]!.GetValue<string>());
        Assert.Equal("9000", root["envs"]!["PORT"]!.GetValue<string>());
        foreach (var key in new[] { "service.load_balancing_policy", "service.replica_tls", "tiers[0].settings.namespace" })
            Assert.Contains($"#   {key}: ", console.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SkyPilot_Out_WritesServiceAndPoolsWithoutOurKeys()
    {
        using var console = new InProcessConsole();
        var pools = await WriteAsync(console, "pools.yaml", """
            hetzner-base:
              user: root
              identity_file: ~/.ssh/hetzner_ed25519
              proxy_jump: admin@bastion.example
              replicas_per_node: 2
              hosts:
                - ip: 10.0.1.100
                - ip: 10.0.1.101
                  user: deploy
            unrelated:
              user: x
              hosts: [192.0.2.9]
            """);
        var output = Path.Combine(console.Home, "sky");

        var code = await console.RunAsync("export", "skypilot", Path.Combine(DeployFolder, "service-hybrid.yaml"), "--out", output, "--pools", pools);

        Assert.True(code == ExitCodes.Success, console.Stderr);
        AssertServiceSchema(await File.ReadAllTextAsync(Path.Combine(output, "service.yaml")));
        var poolsYaml = await File.ReadAllTextAsync(Path.Combine(output, SshNodePools.FileName));
        var parsed = SshNodePools.Parse(poolsYaml);
        var pool = Assert.Single(parsed.Pools);
        Assert.Equal("hetzner-base", pool.Name);
        Assert.Equal(["10.0.1.100", "10.0.1.101"], pool.Nodes.Select(n => n.Host));
        Assert.Equal("deploy", pool.Nodes[1].User);
        Assert.All(pool.Nodes, n => Assert.Null(n.ProxyJump));
        Assert.Null(pool.ReplicasPerNode);
        Assert.Contains("#   hetzner-base.proxy_jump: ", poolsYaml, StringComparison.Ordinal);
        Assert.Contains("#   hetzner-base.replicas_per_node: ", poolsYaml, StringComparison.Ordinal);
        Assert.Contains($"sky serve up {Path.Combine(output, "service.yaml")} --name wrinklefree-hybrid", console.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SkyPilot_MissingPool_ExitTwoNamingItAndThePoolsThereAre()
    {
        using var console = new InProcessConsole();
        var pools = await WriteAsync(console, "pools.yaml", "other:\n  user: root\n  hosts: [192.0.2.1]\n");

        var code = await console.RunAsync("export", "skypilot", Path.Combine(DeployFolder, "service-hybrid.yaml"), "--out", Path.Combine(console.Home, "sky"), "--pools", pools);

        Assert.Equal(ExitCodes.InvalidInput, code);
        Assert.Contains("no pool named 'hetzner-base'; pools here: other", console.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("service-hybrid.yaml", false, "--pools is read with --out only")]
    [InlineData("service-prod.yaml", true, "--pools: service-prod.yaml has no ssh tiers, so no pools are exported")]
    public async Task SkyPilot_PoolsWithoutEffect_ExitTwoSayingWhy(string spec, bool withOut, string expected)
    {
        using var console = new InProcessConsole();
        var pools = await WriteAsync(console, "pools.yaml", "hetzner-base:\n  user: root\n  hosts: [192.0.2.1]\n");
        string[] output = withOut ? ["--out", Path.Combine(console.Home, "sky")] : [];

        var code = await console.RunAsync(["export", "skypilot", Path.Combine(DeployFolder, spec), "--pools", pools, .. output]);

        Assert.Equal(ExitCodes.InvalidInput, code);
        Assert.Equal("", console.Stdout);
        Assert.Contains(expected, console.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SkyPilot_TrainTask_JobsLaunchTaskWithJobRecovery()
    {
        using var console = new InProcessConsole();
        var task = await WriteAsync(console, "distill.yaml", """
            name: distill
            resources:
              cpus: 8+
              accelerators: H100:1
              use_spot: true
              infra: aws/us-east-1
            job_recovery:
              strategy: FAILOVER
              max_restarts_on_errors: 3
            envs:
              WANDB_MODE: offline
            train:
              stage: stage1.9
              steps: 2000
            checkpoint:
              store: s3://ckpt/distill
              mode: MOUNT_CACHED
              every_steps: 500
            """);
        var output = Path.Combine(console.Home, "sky");

        var code = await console.RunAsync("export", "skypilot", task, "--out", output);

        Assert.True(code == ExitCodes.Success, console.Stderr);
        var root = PyYamlJson.Load(await File.ReadAllTextAsync(Path.Combine(output, "task.yaml")))!;
        AssertValid("task", root);
        AssertValid("resources", root["resources"]);
        Assert.Equal("aws/us-east-1", root["resources"]!["infra"]!.GetValue<string>());
        Assert.Equal("FAILOVER", root["resources"]!["job_recovery"]!["strategy"]!.GetValue<string>());
        Assert.Equal(3, root["resources"]!["job_recovery"]!["max_restarts_on_errors"]!.GetValue<double>());
        Assert.Null(root["job_recovery"]);
        Assert.Null(root["resources"]!["spot_recovery"]);
        Assert.Equal("wf train stage1.9 --steps 2000 --checkpoint-store s3://ckpt/distill --checkpoint-mode MOUNT_CACHED --checkpoint-every 500",
            root["run"]!.GetValue<string>());
        Assert.Contains($"sky jobs launch {Path.Combine(output, "task.yaml")}", console.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SkyPilot_RunTask_CheckpointAsVariables()
    {
        using var console = new InProcessConsole();
        var task = await WriteAsync(console, "job.yaml", "run: python train.py\ncheckpoint:\n  store: /ckpt\n  keep_last_n: 2\n");

        var code = await console.RunAsync("export", "skypilot", task);

        Assert.True(code == ExitCodes.Success, console.Stderr);
        var root = PyYamlJson.Load(console.Stdout)!;
        AssertValid("task", root);
        AssertValid("resources", root["resources"]);
        Assert.Equal("EAGER_NEXT_REGION", root["resources"]!["job_recovery"]!["strategy"]!.GetValue<string>());
        Assert.Equal("/ckpt", root["envs"]!["WF_CHECKPOINT_STORE"]!.GetValue<string>());
        Assert.Equal("2", root["envs"]!["WF_KEEP_LAST_N"]!.GetValue<string>());
        Assert.Equal("python train.py", root["run"]!.GetValue<string>());
    }

    [Fact]
    public async Task SkyPilot_RunOnlyTaskAsJob_TaskNotService()
    {
        using var console = new InProcessConsole();
        var task = await WriteAsync(console, "sweep.yaml", "resources:\n  cpus: 4\n  job_recovery:\n    max_restarts_on_errors: 2\nrun: ./sweep.sh\n");

        var code = await console.RunAsync("export", "skypilot", task, "--as", "job");

        Assert.True(code == ExitCodes.Success, console.Stderr);
        var root = PyYamlJson.Load(console.Stdout)!;
        AssertValid("task", root);
        AssertValid("resources", root["resources"]);
        Assert.Null(root["service"]);
        Assert.Equal("sweep", root["name"]!.GetValue<string>());
        Assert.Equal(2, root["resources"]!["job_recovery"]!["max_restarts_on_errors"]!.GetValue<double>());
        Assert.StartsWith("# Managed job for `sky jobs launch`", console.Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("service:\n  replicas: 1\nresources:\n  ports: [8080, 8081]\n", "resources.ports (line 4, column 3): a replica serves on one port")]
    [InlineData("service:\n  replicas: 1\n  bogus: 1\n", "service.bogus (line 3, column 3): unknown key")]
    [InlineData("tiers:\n  - name: metal\n    provider: ssh\n", "tiers[0].settings: ssh tier 'metal' names no pool")]
    public async Task SkyPilot_WhatCannotBeCarried_ExitTwoNamingIt(string yaml, string expected)
    {
        using var console = new InProcessConsole();
        var spec = await WriteAsync(console, "bad.yaml", yaml);

        var code = await console.RunAsync("export", "skypilot", spec);

        Assert.Equal(ExitCodes.InvalidInput, code);
        Assert.Equal("", console.Stdout);
        Assert.Contains(expected, console.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("resources", "{\"spot_recovery\": \"FAILOVER\"}", "unknown key 'spot_recovery'")]
    [InlineData("resources", "{\"infra\": \"hetzner\"}", "does not match")]
    [InlineData("service", "{\"readiness_probe\": {\"path\": \"/\", \"period_seconds\": 5}}", "matches none of anyOf")]
    [InlineData("task", "{\"envs\": {\"CONTEXT_SIZE\": 4096}}", "must be string or null")]
    public void SchemaValidator_RejectsWhatSkyPilotRejects(string schema, string json, string expected)
    {
        var errors = SchemaValidator.Load(SchemaPath(schema)).Validate(JsonNode.Parse(json));

        Assert.Contains(errors, e => e.Contains(expected, StringComparison.Ordinal));
    }

    private static JsonNode AssertServiceSchema(string yaml)
    {
        var root = PyYamlJson.Load(yaml)!;
        AssertValid("task", root);
        AssertValid("service", root["service"]);
        AssertValid("resources", root["resources"]);
        return root;
    }

    private static void AssertValid(string schema, JsonNode? value) =>
        Assert.Empty(SchemaValidator.Load(SchemaPath(schema)).Validate(value));

    private static string SchemaPath(string name) => Path.Combine(RepositoryPaths.Root, "tests", "data", "skypilot", $"{name}.schema.json");

    private static string ProbePath(JsonNode probe) => probe is JsonValue ? probe.GetValue<string>() : probe["path"]!.GetValue<string>();

    private static async Task<string> WriteAsync(InProcessConsole console, string name, string text)
    {
        Directory.CreateDirectory(console.Home);
        var path = Path.Combine(console.Home, name);
        await File.WriteAllTextAsync(path, text + (text.EndsWith('\n') ? "" : "\n"));
        return path;
    }
}
