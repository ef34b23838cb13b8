using k8s;
using WrinkleFree.Providers.Kubernetes.Pods;
using WrinkleFree.Service.Providers;
using WrinkleFree.Service.Spec;
using WrinkleFree.Testing;

namespace WrinkleFree.Providers.Kubernetes.Tests.Pods;

/// <summary>
/// What is sent to the API for a replica, pinned as YAML snapshots (Snapshots/*.yaml). A deliberate change rewrites them
/// with WF_UPDATE_SNAPSHOTS=1; the diff is then reviewed like code.
/// </summary>
public sealed class ReplicaPodBuilderTests
{
    private static readonly KubernetesTierSettings Everything = KubernetesTierSettings.Parse(new Dictionary<string, object?>
    {
        ["context"] = "prod",
        ["namespace"] = "inference",
        ["image"] = "ghcr.io/wrinklefree/wf:1.2.0",
        ["node_selector"] = new Dictionary<string, object?> { ["node.kubernetes.io/instance-type"] = "c7i.4xlarge" },
        ["tolerations"] = new List<object?> { new Dictionary<string, object?> { ["key"] = "dedicated", ["operator"] = "Equal", ["value"] = "wf", ["effect"] = "NoSchedule" } },
        ["service_account"] = "wf-replica",
        ["image_pull_secrets"] = new List<object?> { "ghcr-pull" },
        ["model"] = "pvc://models/bitnet/b1.58-2B.gguf",
    }, "settings");

    [Fact]
    public void Build_WfReplicaWithTlsFilesAndEverySetting_MatchesSnapshot()
    {
        var request = new ReplicaLaunchRequest
        {
            Service = "chat",
            ReplicaId = 7,
            Version = 3,
            Tier = "eks",
            Command = "wf",
            Arguments = ["replica"],
            Resources = new ResourcesSpec { Cpus = "4", Memory = "8" },
        };
        var pod = ReplicaPodBuilder.Build(new ReplicaPodInput
        {
            Request = request,
            Settings = Everything,
            ContainerPort = 8080,
            DrainTimeout = TimeSpan.FromSeconds(30),
            Envs = new Dictionary<string, string> { ["PORT"] = "8080", ["HOST"] = "0.0.0.0", ["NUM_THREADS"] = "4", ["WF_TLS_CERT"] = "/home/wf/pki/7.crt", ["WF_TLS_KEY"] = "/home/wf/pki/7.key", ["WF_TLS_CLIENT_CA"] = "/home/wf/pki/ca.crt" },
            SecretFileVariables = ["WF_TLS_CERT", "WF_TLS_KEY", "WF_TLS_CLIENT_CA"],
            Https = true,
        });
        var created = KubernetesJson.Deserialize<k8s.Models.V1Pod>(KubernetesJson.Serialize(pod));
        created.Metadata.Uid = "6f1c1d2e-0000-4000-8000-000000000007";
        var secret = ReplicaPodBuilder.BuildSecret(created, new Dictionary<string, byte[]> { ["WF_TLS_CERT"] = "CERT"u8.ToArray(), ["WF_TLS_KEY"] = "KEY"u8.ToArray(), ["WF_TLS_CLIENT_CA"] = "CA"u8.ToArray() });

        AssertSnapshot("wf-replica-tls.yaml", KubernetesYaml.Serialize(pod) + "\n---\n" + KubernetesYaml.Serialize(secret) + "\n");
    }

    [Fact]
    public void Build_RunScriptWithSetupAndAnS3Model_InClusterName_MatchesSnapshot()
    {
        var settings = KubernetesTierSettings.Parse(new Dictionary<string, object?>
        {
            ["namespace"] = "wf",
            ["image"] = "ghcr.io/wrinklefree/wf:1.2.0",
            ["model"] = new Dictionary<string, object?> { ["url"] = "s3://wf-models/tiny.gguf", ["sha256"] = new string('c', 64) },
        }, "settings");
        var pod = ReplicaPodBuilder.Build(new ReplicaPodInput
        {
            Request = new ReplicaLaunchRequest { Service = "Chat_Dev", ReplicaId = 2, Tier = "k8s", Setup = "echo setting up", Run = "wf replica --port $PORT", Resources = new ResourcesSpec { Cpus = "2+", Memory = "2x" } },
            Settings = settings,
            ContainerPort = 8080,
            DrainTimeout = TimeSpan.FromSeconds(10),
            Envs = new Dictionary<string, string> { ["PORT"] = "8080", ["HOST"] = "0.0.0.0" },
            Subdomain = PodNames.HeadlessService("Chat_Dev"),
        });

        AssertSnapshot("run-script-s3-model.yaml", KubernetesYaml.Serialize(pod) + "\n");
    }

    private static void AssertSnapshot(string name, string actual)
    {
        var path = Path.Combine(RepositoryPaths.Root, "tests", "WrinkleFree.Providers.Kubernetes.Tests", "Snapshots", name);
        if (Environment.GetEnvironmentVariable("WF_UPDATE_SNAPSHOTS") == "1")
            File.WriteAllText(path, actual);
        Assert.True(File.Exists(path), $"no snapshot {path}; run with WF_UPDATE_SNAPSHOTS=1 and review it");
        Assert.Equal(File.ReadAllText(path), actual);
    }
}
