using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using WrinkleFree.Service.Providers;
using WrinkleFree.Testing;
using WrinkleFree.Testing.Kubernetes;

namespace WrinkleFree.Providers.Kubernetes.Tests.Support;

/// <summary>
/// A Kubernetes API test double with namespace <see cref="Namespace"/>, a kubeconfig pointing at it (context
/// <see cref="Context"/>) in a fresh WF home, and pods whose container is the FakeUpstream on a loopback port (or the
/// serving wf, with <see cref="RunServingWf"/>). Providers made here reach pods through port-forwards, as a daemon
/// outside the cluster does.
/// </summary>
internal sealed class TestCluster : IAsyncDisposable
{
    public const string Namespace = "wf";
    public const string Context = "double";
    public const string Image = "ghcr.io/wrinklefree/wf:test";

    private static readonly string FakeDll = Path.Combine(AppContext.BaseDirectory, "WrinkleFree.FakeUpstream.dll");
    private readonly TempDirectory _home = new("wf-k8s-provider");
    private readonly List<KubernetesProvider> _providers = [];

    private TestCluster(KubernetesApiTestDouble api)
    {
        Api = api;
        Kubeconfig = api.WriteKubeconfig(_home.Path, Context, Namespace);
        Api.Containers = StartFakeUpstream;
    }

    public KubernetesApiTestDouble Api { get; }

    public string Home => _home.Path;

    public string Kubeconfig { get; }

    public static async Task<TestCluster> StartAsync() => new(await KubernetesApiTestDouble.StartAsync(Namespace));

    /// <summary>A provider as a daemon of this home makes it (a new one is a restarted daemon).</summary>
    /// <param name="direct">Reach pods on their DNS names, as a daemon inside the cluster does (names the double cannot resolve).</param>
    public KubernetesProvider NewProvider(string? kubeconfig = null, bool direct = false)
    {
        var provider = new KubernetesProvider(
            new ReplicaProviderContext(Home, TimeProvider.System, NullLoggerFactory.Instance),
            new KubernetesProviderOptions
            {
                KubeconfigPath = kubeconfig ?? Kubeconfig,
                InCluster = false,
                ReachPodsDirectly = direct,
                DrainTimeout = TimeSpan.FromSeconds(2),
                WatchRetryDelay = TimeSpan.FromMilliseconds(200),
            });
        _providers.Add(provider);
        return provider;
    }

    public static Dictionary<string, object?> Settings(string? context = Context, string ns = Namespace) => new()
    {
        ["context"] = context,
        ["namespace"] = ns,
        ["image"] = Image,
    };

    public static ReplicaLaunchRequest Request(int id, string service = "svc") => new()
    {
        Service = service,
        ReplicaId = id,
        Tier = "k8s",
        Command = "wf",
        Arguments = ["replica"],
        TierSettings = Settings(),
    };

    /// <summary>Pods run the serving wf (`wf replica`, mutual TLS with the files from their Secret) instead of the FakeUpstream.</summary>
    public void RunServingWf() => Api.Containers = StartServingWf;

    private static IPodContainer StartFakeUpstream(PodContainerStart start)
    {
        var info = new ProcessStartInfo("dotnet") { ArgumentList = { FakeDll, "--host", "127.0.0.1", "--port", start.LoopbackPort.ToString(System.Globalization.CultureInfo.InvariantCulture) } };
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        return ProcessPodContainer.Start(info, start.LoopbackPort);
    }

    private static IPodContainer StartServingWf(PodContainerStart start)
    {
        var command = start.Pod.Spec.Containers[0].Command;
        Assert.Equal("wf", command[0]);
        var info = WfBuild.Serving.StartInfo(command.Skip(1));
        foreach (var (key, value) in start.Environment)
            info.Environment[key] = value;
        // The container's port is the double's loopback port for it; the image's wf listens where the pod says otherwise.
        info.Environment["PORT"] = start.LoopbackPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        info.Environment["HOST"] = "127.0.0.1";
        return ProcessPodContainer.Start(info, start.LoopbackPort);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var provider in _providers)
            await provider.DisposeAsync();
        await Api.DisposeAsync();
        _home.Dispose();
    }
}
