using WrinkleFree.Service.Providers;
using WrinkleFree.Testing;

namespace WrinkleFree.Providers.Cloud.Tests.Provider;

/// <summary>
/// What instances boot with, pinned as snapshots (Snapshots/*.sh). A deliberate change rewrites them with
/// WF_UPDATE_SNAPSHOTS=1; the diff is then reviewed like code.
/// </summary>
public sealed class ReplicaUserDataTests
{
    private static CloudTierSettings Settings(Dictionary<string, object?> extra)
    {
        var raw = new Dictionary<string, object?>
        {
            ["infra"] = "aws",
            ["zones"] = new List<object?> { "us-east-1a" },
            ["instance_type"] = "r7a.xlarge",
            ["image"] = "ami-0123456789abcdef0",
        };
        foreach (var (k, v) in extra)
            raw[k] = v;
        return CloudTierSettings.Parse(raw, spot: true, "settings");
    }

    [Fact]
    public void Build_WfReplicaWithS3ModelWfUrlAndKeyFile_MatchesSnapshot()
    {
        var settings = Settings(new()
        {
            ["model_url"] = "s3://wf-models/wrinklefree-2b.gguf",
            ["model_sha256"] = new string('a', 64),
            ["wf_url"] = "https://releases.example.com/wf-serving/1.2.0/wf",
            ["wf_sha256"] = new string('b', 64),
        });
        var request = new ReplicaLaunchRequest { Service = "chat", ReplicaId = 7, Version = 3, Tier = "cloud-spot", Command = "wf", Arguments = ["replica", "--context-size", "4096"] };
        var envs = new Dictionary<string, string>
        {
            ["PORT"] = "8080",
            ["HOST"] = "0.0.0.0",
            ["NUM_THREADS"] = "4",
            ["NOTE"] = "a \"quoted\" $value with 100%",
            ["WF_API_KEY_FILE"] = ReplicaUserData.FilePath("WF_API_KEY_FILE"),
        };

        var script = ReplicaUserData.Build(request, settings, envs, new Dictionary<string, string> { ["WF_API_KEY_FILE"] = "replica-key\n" });

        AssertSnapshot("wf-replica-s3-model.sh", script);
    }

    [Fact]
    public void Build_RunScriptWithSetup_MatchesSnapshot()
    {
        var request = new ReplicaLaunchRequest { Service = "chat", ReplicaId = 2, Tier = "cloud", Setup = "echo setting up", Run = "wf replica --port $PORT # 100%" };

        var script = ReplicaUserData.Build(request, Settings([]), new Dictionary<string, string> { ["PORT"] = "8080", ["HOST"] = "0.0.0.0" });

        AssertSnapshot("run-script.sh", script);
    }

    [Fact]
    public void ExecStart_WfReplica_AddsTheInterruptionNoticeOfTheCloud()
    {
        var request = new ReplicaLaunchRequest { Service = "chat", ReplicaId = 1, Tier = "t", Command = "wf", Arguments = ["replica"] };

        Assert.Equal("/usr/local/bin/wf replica --interruption-notice gcp", ReplicaUserData.ExecStart(request, "gcp"));
    }

    private static void AssertSnapshot(string name, string actual)
    {
        var path = Path.Combine(RepositoryPaths.Root, "tests", "WrinkleFree.Providers.Cloud.Tests", "Snapshots", name);
        if (Environment.GetEnvironmentVariable("WF_UPDATE_SNAPSHOTS") == "1")
            File.WriteAllText(path, actual);
        Assert.True(File.Exists(path), $"no snapshot {path}; run with WF_UPDATE_SNAPSHOTS=1 and review it");
        Assert.Equal(File.ReadAllText(path), actual);
    }
}
