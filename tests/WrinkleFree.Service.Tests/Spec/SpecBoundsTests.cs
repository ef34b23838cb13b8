using System.Text;
using WrinkleFree.Service.Spec;

namespace WrinkleFree.Service.Tests.Spec;

/// <summary>Specs that once crashed `wf up` or the daemon (stack overflow, unbounded replica planning) now get a spec error.</summary>
public sealed class SpecBoundsTests
{
    public static TheoryData<string, string, string, string> OutOfBounds => new()
    {
        { "replicas", "service:\n  replicas: 2147483647\n", "service.replicas", "must be <= 10000 replicas, got 2147483647" },
        { "min_replicas", "service:\n  replica_policy:\n    min_replicas: 20000\n", "service.replica_policy.min_replicas", "must be <= 10000 replicas" },
        {
            "max_replicas", "service:\n  replica_policy:\n    min_replicas: 1\n    max_replicas: 10001\n    target_qps_per_replica: 2\n",
            "service.replica_policy.max_replicas", "must be <= 10000 replicas"
        },
        {
            "target qps", "service:\n  replica_policy:\n    min_replicas: 1\n    max_replicas: 2\n    target_qps_per_replica: 1e300\n",
            "service.replica_policy.target_qps_per_replica", "must be <= 1000000"
        },
        { "tier capacity", "tiers:\n  - name: a\n    provider: local\n    capacity: 100000\n", "tiers[0].capacity", "must be <= 10000 replicas" },
        { "delay", "service:\n  replica_policy:\n    min_replicas: 1\n    upscale_delay_seconds: 999999999\n", "service.replica_policy.upscale_delay_seconds", "must be <= 86400 seconds" },
        { "probe timeout", "service:\n  readiness_probe:\n    path: /health\n    timeout_seconds: 86401\n", "service.readiness_probe.timeout_seconds", "must be <= 86400 seconds" },
        { "failures", "service:\n  failure_policy:\n    max_failures: 2000000000\n", "service.failure_policy.max_failures", "must be <= 10000 failures" },
        { "backoff", "service:\n  failure_policy:\n    max_backoff_seconds: 2000000000\n", "service.failure_policy.max_backoff_seconds", "must be <= 86400 seconds" },
        { "queue depth", "service:\n  replica_policy:\n    min_replicas: 1\n    queue_depth_emergency: 2000000000\n", "service.replica_policy.queue_depth_emergency", "must be <= 1000000 requests" },
        { "port", "service:\n  ports: 70000\n", "service.ports", "between 1 and 65535" },
        { "disk", "resources:\n  disk_size: 10000000\n", "resources.disk_size", "must be <= 65536 GB" },
        { "run", "run: " + new string('x', 70_000) + "\n", "run", "at most 65536 (64 KiB)" },
        { "setup", "setup: " + new string('x', 70_000) + "\n", "setup", "at most 65536 (64 KiB)" },
        { "envs count", "envs:\n" + string.Concat(Enumerable.Range(0, 300).Select(i => $"  V{i}: x\n")), "envs", "must be <= 256 variables" },
        { "envs size", "envs:\n" + string.Concat(Enumerable.Range(0, 5).Select(i => $"  V{i}: {new string('x', 60_000)}\n")), "envs", "at most 262144 (256 KiB)" },
    };

    [Theory]
    [MemberData(nameof(OutOfBounds))]
    public void Parse_NumberOrSizeOverItsBound_ErrorNamesKeyAndBound(string scenario, string yaml, string keyPath, string detail)
    {
        var error = Assert.Throws<ServiceSpecException>(() => ServiceSpecParser.Parse(yaml));

        Assert.True(keyPath == error.KeyPath, $"{scenario}: key path '{error.KeyPath}' in: {error.Message}");
        Assert.Contains(detail, error.Detail, StringComparison.Ordinal);
        Assert.True(error.Line > 0, $"{scenario}: no line in: {error.Message}");
    }

    [Fact]
    public void Parse_AtTheBounds_Accepted()
    {
        var spec = ServiceSpecParser.Parse(
            "service:\n  replica_policy:\n    min_replicas: 10000\n    upscale_delay_seconds: 86400\nrun: " + new string('x', SpecLimits.MaxScriptBytes - 10) + "\n");

        Assert.Equal(SpecLimits.MaxReplicas, spec.Service.ReplicaPolicy.MinReplicas);
    }

    [Fact]
    public void Parse_HundredThousandDeepSequence_SpecErrorNotStackOverflow()
    {
        var yaml = "run: echo\nfile_mounts:\n  /a: " + new StringBuilder().Insert(0, "[", 100_000).Insert(0, "x").ToString()[1..];

        var error = Assert.Throws<ServiceSpecException>(() => ServiceSpecParser.Parse(yaml));

        Assert.Contains("deeper than 64 levels", error.Detail, StringComparison.Ordinal);
        Assert.Equal(3, error.Line);
    }

    [Fact]
    public void Parse_BillionLaughsInFileMounts_SpecError()
    {
        var yaml = new StringBuilder("run: echo\nfile_mounts:\n  /a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for (var level = 'b'; level <= 'i'; level++)
        {
            var p = $"*{(char)(level - 1)}";
            yaml.Append($"  /{level}: &{level} [{p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}]\n");
        }

        var error = Assert.Throws<ServiceSpecException>(() => ServiceSpecParser.Parse(yaml.ToString()));

        Assert.Contains("expands to more than", error.Detail, StringComparison.Ordinal);
    }
}
