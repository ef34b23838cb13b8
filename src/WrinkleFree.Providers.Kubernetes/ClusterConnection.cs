using System.Collections.Concurrent;
using k8s;
using k8s.Exceptions;
using k8s.Models;
using Microsoft.Extensions.Logging;
using WrinkleFree.Providers.Kubernetes.Pods;
using WrinkleFree.Service.Spec;

namespace WrinkleFree.Providers.Kubernetes;

/// <summary>One API client per kubeconfig context (or the in-cluster account), with one pod watch per namespace.</summary>
internal sealed class ClusterConnection : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, ResourceWatch<V1Pod>> _watches = new(StringComparer.Ordinal);
    private readonly KubernetesProviderOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    private ClusterConnection(k8s.Kubernetes client, string? context, bool portForward, KubernetesProviderOptions options, TimeProvider time, ILogger logger, string? defaultNamespace = null)
    {
        DefaultNamespace = defaultNamespace;
        Client = client;
        Context = context;
        PortForward = portForward;
        _options = options;
        _time = time;
        _logger = logger;
    }

    public k8s.Kubernetes Client { get; }

    public string? Context { get; }

    /// <summary>Whether pods are reached through a loopback port-forward (the daemon outside the cluster).</summary>
    public bool PortForward { get; }

    public string Server => Client.BaseUri.ToString();

    /// <summary>The context's namespace (or the service account's inside the cluster); null when it names none.</summary>
    public string? DefaultNamespace { get; }

    /// <summary>
    /// Connects to <paramref name="context"/>'s cluster (no request is sent yet). Throws <see cref="ServiceSpecException"/>
    /// at <paramref name="contextKey"/> when the kubeconfig is missing or unreadable or has no such context.
    /// </summary>
    public static ClusterConnection Open(string? context, string contextKey, KubernetesProviderOptions options, TimeProvider time, ILogger logger)
    {
        if (options.UsesInClusterAccount(context))
        {
            var inCluster = KubernetesClientConfiguration.InClusterConfig();
            return new ClusterConnection(new k8s.Kubernetes(inCluster), null, options.PortForward(context), options, time, logger, inCluster.Namespace);
        }

        var path = options.Kubeconfig();
        if (!File.Exists(path))
            throw new ServiceSpecException(contextKey, $"no kubeconfig at {path} (from KUBECONFIG, else ~/.kube/config); write one (e.g. your cloud's `get-credentials`), or run the daemon inside the cluster");
        IReadOnlyList<string> known;
        try
        {
            known = [.. (KubernetesClientConfiguration.LoadKubeConfig(path).Contexts ?? []).Select(c => c.Name)];
        }
        catch (Exception e) when (e is KubeConfigException or YamlDotNet.Core.YamlException or IOException or ArgumentException)
        {
            throw new ServiceSpecException(contextKey, $"kubeconfig {path} cannot be read: {e.Message}");
        }

        if (context is not null && !known.Contains(context, StringComparer.Ordinal))
            throw new ServiceSpecException(contextKey, $"kubeconfig {path} has no context '{context}'; it has: {(known.Count == 0 ? "none" : string.Join(", ", known))} (`kubectl config get-contexts`)");
        try
        {
            var config = KubernetesClientConfiguration.BuildConfigFromConfigFile(path, context);
            return new ClusterConnection(new k8s.Kubernetes(config), context, options.PortForward(context), options, time, logger, config.Namespace);
        }
        catch (Exception e) when (e is KubeConfigException or IOException or ArgumentException or FormatException)
        {
            throw new ServiceSpecException(contextKey, $"kubeconfig {path}, {KubernetesApiErrors.ContextName(context)}: {e.Message}");
        }
    }

    /// <summary>The watch over this namespace's wf pods, started on first use.</summary>
    public ResourceWatch<V1Pod> Watch(string @namespace) =>
        _watches.GetOrAdd(@namespace, ns => Watches.Pods(Client, ns, PodNames.Selector, _options.WatchRetryDelay, _time, _logger));

    public async ValueTask DisposeAsync()
    {
        foreach (var watch in _watches.Values)
            await watch.DisposeAsync().ConfigureAwait(false);
        Client.Dispose();
    }
}
