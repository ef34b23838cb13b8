using WrinkleFree.Service.Spec;

namespace WrinkleFree.Service.Tests.Spec;

public sealed class ServiceSpecErrorTests
{
    public static TheoryData<string, string, string, int, int, string> MalformedSpecs => new()
    {
        {
            "unknown key, near miss",
            "service:\n  replica_policy:\n    min_replicas: 1\n    max_replica: 3\n",
            "service.replica_policy.max_replica", 4, 5,
            "unknown key 'max_replica'; did you mean 'max_replicas'?"
        },
        {
            "unknown key, no near miss",
            "name: svc\nflavour: vanilla\n",
            "flavour", 2, 1,
            "unknown key 'flavour'; valid keys here: name, service, resources"
        },
        {
            "unknown key in a tier",
            "tiers:\n  - name: a\n    provider: local\n    capcity: 3\n",
            "tiers[0].capcity", 4, 5,
            "did you mean 'capacity'?"
        },
        {
            "wrong type: word for an integer",
            "service:\n  replicas: two\n",
            "service.replicas", 2, 13,
            "must be an integer, got 'two'"
        },
        {
            "wrong type: quoted number",
            "service:\n  replicas: \"3\"\n",
            "service.replicas", 2, 13,
            "must be an integer, got the string '3'"
        },
        {
            "wrong type: mapping for a string",
            "run:\n  cmd: wf replica\n",
            "run", 2, 3,
            "must be a string, got a mapping"
        },
        {
            "wrong type: bool",
            "resources:\n  use_spot: maybe\n",
            "resources.use_spot", 2, 13,
            "must be true or false, got 'maybe'"
        },
        {
            "negative min_replicas",
            "service:\n  replica_policy:\n    min_replicas: -1\n",
            "service.replica_policy.min_replicas", 3, 19,
            "must be >= 0, got -1"
        },
        {
            "zero QPS window",
            "service:\n  replica_policy:\n    min_replicas: 1\n    qps_window_seconds: 0\n",
            "service.replica_policy.qps_window_seconds", 4, 25,
            "must be >= 1, got 0"
        },
        {
            "max below min",
            "name: svc\nservice:\n  readiness_probe: /health\n  replica_policy:\n    min_replicas: 3\n    target_qps_per_replica: 2\n    max_replicas: 2\n",
            "service.replica_policy.max_replicas", 7, 19,
            "must be >= min_replicas (3), got 2"
        },
        {
            "min != max without a target",
            "service:\n  replica_policy:\n    min_replicas: 1\n    max_replicas: 3\n",
            "service.replica_policy.target_qps_per_replica", 3, 5,
            "is required when min_replicas (1) != max_replicas (3)"
        },
        {
            "target without max",
            "service:\n  replica_policy:\n    min_replicas: 1\n    target_qps_per_replica: 2.5\n",
            "service.replica_policy.max_replicas", 3, 5,
            "is required when target_qps_per_replica is set"
        },
        {
            "missing min_replicas",
            "service:\n  replica_policy:\n    max_replicas: 3\n",
            "service.replica_policy.min_replicas", 3, 5,
            "is required in service.replica_policy"
        },
        {
            "replicas and replica_policy together",
            "service:\n  replica_policy:\n    min_replicas: 1\n  replicas: 2\n",
            "service.replicas", 4, 13,
            "cannot be combined with replica_policy"
        },
        {
            "duplicate tier names",
            "tiers:\n  - name: a\n    provider: local\n  - name: a\n    provider: ssh\n",
            "tiers[1].name", 4, 11,
            "duplicate tier name 'a' (already used by tiers[0])"
        },
        {
            "bad provider",
            "tiers:\n  - name: a\n    provider: aws\n",
            "tiers[0].provider", 3, 15,
            "unknown provider 'aws'; valid providers: local, ssh, kubernetes, cloud"
        },
        {
            "misspelled provider",
            "tiers:\n  - name: a\n    provider: kubernets\n",
            "tiers[0].provider", 3, 15,
            "(did you mean 'kubernetes'?)"
        },
        {
            "tier without provider",
            "tiers:\n  - name: a\n",
            "tiers[0].provider", 2, 5,
            "is required in tiers[0]"
        },
        {
            "negative capacity",
            "tiers:\n  - name: a\n    provider: local\n    capacity: -2\n",
            "tiers[0].capacity", 4, 15,
            "must be >= 0, got -2"
        },
        {
            "capacity word",
            "tiers:\n  - name: a\n    provider: local\n    capacity: lots\n",
            "tiers[0].capacity", 4, 15,
            "must be a replica count or 'unlimited', got 'lots'"
        },
        {
            "negative cost",
            "tiers:\n  - name: a\n    provider: local\n    cost_per_hour: -0.5\n",
            "tiers[0].cost_per_hour", 4, 20,
            "must be >= 0, got -0.5"
        },
        {
            "capacity below min_replicas",
            "service:\n  replicas: 4\ntiers:\n  - name: a\n    provider: local\n    capacity: 3\n",
            "tiers", 4, 3,
            "total capacity (3) is below min_replicas (4)"
        },
        {
            "service port out of range",
            "service:\n  replicas: 1\n  ports: 70000\n",
            "service.ports", 3, 10,
            "must be a port between 1 and 65535, got 70000"
        },
        {
            "resources port zero",
            "resources:\n  ports: 0\n",
            "resources.ports", 2, 10,
            "must be a port between 1 and 65535 (or a range of them), got '0'"
        },
        {
            "resources port range in a list",
            "resources:\n  ports:\n    - 8080\n    - 9000-8000\n",
            "resources.ports[1]", 4, 7,
            "got '9000-8000'"
        },
        {
            "spot_recovery and job_recovery",
            "resources:\n  use_spot: true\n  job_recovery: FAILOVER\n  spot_recovery: FAILOVER\n",
            "resources.spot_recovery", 4, 18,
            "cannot be combined with job_recovery (line 3): spot_recovery is SkyPilot's older name for it; keep one"
        },
        {
            "bad spot_recovery strategy",
            "resources:\n  spot_recovery: EAGER\n",
            "resources.spot_recovery", 2, 18,
            "must be one of EAGER_NEXT_REGION, FAILOVER, got 'EAGER'"
        },
        {
            "replica_policy at the top and in service",
            "service:\n  replica_policy:\n    min_replicas: 1\nreplica_policy:\n  min_replicas: 2\n",
            "replica_policy", 4, 1,
            "is also given as service.replica_policy (line 2); give the replica policy in one place"
        },
        {
            "replica_policy at the top and service.replicas",
            "service:\n  replicas: 2\nreplica_policy:\n  min_replicas: 2\n",
            "replica_policy", 3, 1,
            "is also given as service.replicas (line 2)"
        },
        {
            "top-level replica_policy: unknown key",
            "replica_policy:\n  min_replica: 0\n",
            "replica_policy.min_replica", 2, 3,
            "did you mean 'min_replicas'?"
        },
        {
            "top-level replica_policy: max below min, named where written",
            "replica_policy:\n  min_replicas: 3\n  max_replicas: 2\n  target_qps_per_replica: 1\n",
            "replica_policy.max_replicas", 3, 17,
            "must be >= min_replicas (3), got 2"
        },
        {
            "period_seconds",
            "service:\n  readiness_probe:\n    path: /health\n    period_seconds: 5\n",
            "service.readiness_probe.period_seconds", 4, 5,
            "endpoint_probe_interval_seconds"
        },
        {
            "probe path without slash",
            "service:\n  readiness_probe: health\n",
            "service.readiness_probe.path", 2, 20,
            "must start with '/', got 'health'"
        },
        {
            "probe mapping without path",
            "service:\n  readiness_probe:\n    timeout_seconds: 5\n",
            "service.readiness_probe.path", 3, 5,
            "is required"
        },
        {
            "bad load balancing policy",
            "service:\n  load_balancing_policy: round-robin\n",
            "service.load_balancing_policy", 2, 26,
            "valid policies: least_load, least_requests, round_robin, power_of_two, prefix_affinity (did you mean 'round_robin'?)"
        },
        {
            "bad job_recovery strategy",
            "resources:\n  job_recovery:\n    strategy: RETRY\n",
            "resources.job_recovery.strategy", 3, 15,
            "must be one of EAGER_NEXT_REGION, FAILOVER, got 'RETRY'"
        },
        {
            "bad cpus",
            "resources:\n  cpus: lots\n",
            "resources.cpus", 2, 9,
            "must be a count or a minimum like '8+'"
        },
        {
            "env without a value",
            "envs:\n  MODEL_PATH:\n",
            "envs.MODEL_PATH", 2, 14,
            "has no value"
        },
        {
            "bad env name",
            "envs:\n  1BAD: x\n",
            "envs.1BAD", 2, 9,
            "is not a valid environment variable name"
        },
        {
            "num_nodes",
            "num_nodes: 2\n",
            "num_nodes", 1, 12,
            "num_nodes must be 1, got 2"
        },
        {
            "root is a list",
            "- a\n- b\n",
            "", 1, 1,
            "must be a mapping, got a list"
        },
        {
            "YAML syntax error",
            "name: svc\nservice: {replicas: 1\n",
            "", 3, 1,
            "YAML syntax error"
        },
        {
            "duplicate key",
            "name: a\nname: b\n",
            "", 2, 1,
            "YAML syntax error: Duplicate key"
        },
        {
            "empty document",
            "# nothing here\n",
            "", 1, 1,
            "the spec is empty"
        },
    };

    [Theory]
    [MemberData(nameof(MalformedSpecs))]
    public void Parse_MalformedSpec_NamesKeyPathLineAndColumn(string scenario, string yaml, string keyPath, int line, int column, string detail)
    {
        var error = Assert.Throws<ServiceSpecException>(() => ServiceSpecParser.Parse(yaml));

        Assert.True(keyPath == error.KeyPath, $"{scenario}: key path '{error.KeyPath}' in: {error.Message}");
        Assert.True(line == error.Line && column == error.Column, $"{scenario}: position {error.Line}:{error.Column} in: {error.Message}");
        Assert.Contains(detail, error.Detail, StringComparison.Ordinal);
        Assert.Contains($"line {line}, column {column}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_MaxBelowMin_MessageReadsAsDocumented()
    {
        const string Yaml = "name: svc\nservice:\n  readiness_probe: /health\n  replica_policy:\n    min_replicas: 3\n    target_qps_per_replica: 2\n    max_replicas: 2\n";

        var error = Assert.Throws<ServiceSpecException>(() => ServiceSpecParser.Parse(Yaml));

        Assert.Equal("service.replica_policy.max_replicas (line 7, column 19): must be >= min_replicas (3), got 2", error.Message);
    }

    [Fact]
    public void ParseFile_Malformed_MessageNamesTheFile()
    {
        var path = Path.Combine(Path.GetTempPath(), $"wf-spec-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, "service:\n  replicas: -3\n");
        try
        {
            var error = Assert.Throws<ServiceSpecException>(() => ServiceSpecParser.ParseFile(path));

            Assert.Equal(path, error.SourceName);
            Assert.StartsWith($"{path}: service.replica_policy.min_replicas", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Validate_SpecBuiltInCode_ThrowsWithKeyPathAndNoPosition()
    {
        var spec = ServiceSpecParser.Parse("tiers:\n  - name: base\n    provider: local\n    capacity: 2\n");
        var raised = spec with { Service = spec.Service with { ReplicaPolicy = new ReplicaPolicySpec { MinReplicas = 3 } } };

        var error = Assert.Throws<ServiceSpecException>(raised.Validate);

        Assert.Equal("tiers", error.KeyPath);
        Assert.Equal(0, error.Line);
        Assert.Equal("tiers: total capacity (2) is below min_replicas (3)", error.Message);
    }
}
