using System.Globalization;
using System.Text.RegularExpressions;
using k8s;
using k8s.Models;
using WrinkleFree.Service.Spec;

namespace WrinkleFree.Cli.Export;

/// <summary>
/// The objects that run one service's WrinkleFree daemon inside a Kubernetes cluster: its namespace, the RBAC the
/// kubernetes provider needs (from <see cref="KubernetesRbac"/>), the spec as a ConfigMap, WF_HOME on a PersistentVolumeClaim
/// (the daemon's state is SQLite, so one writer: a Deployment of one replica, Recreate), and a Service for the endpoint.
/// </summary>
public static partial class KubernetesManifests
{
    /// <summary>Where the spec ConfigMap is mounted in the daemon's container.</summary>
    public const string SpecDirectory = "/etc/wrinklefree";

    /// <summary>The spec's file name inside the ConfigMap (and so under <see cref="SpecDirectory"/>).</summary>
    public const string SpecFile = "service.yaml";

    /// <summary>WF_HOME in the daemon's container: the mount point of the PersistentVolumeClaim.</summary>
    public const string HomeDirectory = "/var/lib/wrinklefree";

    /// <summary>The label every object of a service carries, with the service name; replica pods carry it too.</summary>
    public const string ServiceLabel = "wrinklefree/service";

    /// <summary>The non-root user and group the images run as (deploy/kubernetes/Dockerfile creates them).</summary>
    public const long ImageUser = 10001;

    private const string ComponentLabel = "app.kubernetes.io/component";

    /// <summary>
    /// Builds the manifests for <paramref name="spec"/> (already parsed from <paramref name="yaml"/>); throws
    /// <see cref="ExportException"/> naming the key or option that cannot be carried.
    /// </summary>
    public static KubernetesExport Build(ServiceSpec spec, string yaml, string? source, KubernetesExportOptions options)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(options);
        var written = WrittenKeys.Read(yaml, source);
        var service = ServicePlan.NameFor(options.Name, spec, source);
        var name = ObjectName(service);
        var ns = NamespaceFor(spec, options);
        var image = options.Image ?? KubernetesExportOptions.DefaultImage;
        if (image.Length == 0 || image.Any(char.IsWhiteSpace))
            throw new ExportException($"--image '{image}' is not an image reference (REGISTRY/NAME:TAG)");
        ResourceQuantity storage;
        try
        {
            storage = new ResourceQuantity(options.Storage);
        }
        catch (FormatException)
        {
            throw new ExportException($"--storage '{options.Storage}' is not a Kubernetes quantity such as 10Gi");
        }

        if (spec.Workdir is not null)
            throw written.Error("workdir", "a local folder cannot travel in a ConfigMap; bake it into the image (or fetch it in setup:) and drop workdir: from the exported spec");
        if (spec.Service.Tls is not null)
            throw written.Error("service.tls", "the key and certificate files are not exported (they would need a Secret this export does not write); terminate TLS at an Ingress in front of the Service, or drop service.tls");

        var notes = new List<string>();
        var (specYaml, port) = InClusterSpec(spec, yaml, options, notes);
        if (options.Image is null)
            notes.Add($"image {KubernetesExportOptions.DefaultImage}: build deploy/kubernetes/Dockerfile, push it, and pass --image REGISTRY/wf:TAG");
        if (spec.Tiers.Any(t => t.Provider == TierProvider.Local))
            notes.Add("local tiers run their replicas inside the daemon's pod: give the Deployment the cpus and memory they need, or move them to a kubernetes tier");
        foreach (var tier in spec.Tiers.Where(t => t.Provider == TierProvider.Kubernetes && !t.Settings.ContainsKey("image")))
            notes.Add($"kubernetes tier '{tier.Name}' names no settings.image: build the replica target of deploy/kubernetes/Dockerfile, push it, and set it there");
        if (spec.Tiers.Any(t => t.Provider == TierProvider.Ssh))
            notes.Add($"ssh tiers need {HomeDirectory}/ssh_node_pools.yaml and its keys on the volume (kubectl cp them into the pod)");

        var labels = new Dictionary<string, string>
        {
            ["app.kubernetes.io/name"] = "wrinklefree",
            ["app.kubernetes.io/managed-by"] = "wf-export",
            [ServiceLabel] = service,
        };
        var daemonLabels = new Dictionary<string, string>(labels) { [ComponentLabel] = "daemon" };
        var selector = new Dictionary<string, string> { [ServiceLabel] = service, [ComponentLabel] = "daemon" };
        var account = $"{name}-daemon";
        var clusterRole = $"wf:{ns}:{name}-daemon";

        List<KubernetesManifest> manifests =
        [
            new("00-namespace.yaml", new V1Namespace { ApiVersion = "v1", Kind = "Namespace", Metadata = new() { Name = ns, Labels = new Dictionary<string, string> { ["app.kubernetes.io/part-of"] = "wrinklefree" } } }),
            new("10-serviceaccount.yaml", new V1ServiceAccount { ApiVersion = "v1", Kind = "ServiceAccount", Metadata = Meta(account, ns, daemonLabels) }),
            new("11-role.yaml", new V1Role { ApiVersion = $"{KubernetesRbac.RbacGroup}/v1", Kind = "Role", Metadata = Meta(account, ns, daemonLabels), Rules = KubernetesRbac.PolicyRules(KubernetesRbac.NamespaceRules) }),
            new("12-rolebinding.yaml", new V1RoleBinding
            {
                ApiVersion = $"{KubernetesRbac.RbacGroup}/v1",
                Kind = "RoleBinding",
                Metadata = Meta(account, ns, daemonLabels),
                RoleRef = new V1RoleRef { ApiGroup = KubernetesRbac.RbacGroup, Kind = "Role", Name = account },
                Subjects = [new Rbacv1Subject { Kind = "ServiceAccount", Name = account, NamespaceProperty = ns }],
            }),
            new("13-clusterrole.yaml", new V1ClusterRole
            {
                ApiVersion = $"{KubernetesRbac.RbacGroup}/v1",
                Kind = "ClusterRole",
                Metadata = Meta(clusterRole, null, daemonLabels),
                Rules = KubernetesRbac.PolicyRules(KubernetesRbac.ClusterRules, [ns]),
            }),
            new("14-clusterrolebinding.yaml", new V1ClusterRoleBinding
            {
                ApiVersion = $"{KubernetesRbac.RbacGroup}/v1",
                Kind = "ClusterRoleBinding",
                Metadata = Meta(clusterRole, null, daemonLabels),
                RoleRef = new V1RoleRef { ApiGroup = KubernetesRbac.RbacGroup, Kind = "ClusterRole", Name = clusterRole },
                Subjects = [new Rbacv1Subject { Kind = "ServiceAccount", Name = account, NamespaceProperty = ns }],
            }),
            new("20-configmap.yaml", new V1ConfigMap { ApiVersion = "v1", Kind = "ConfigMap", Metadata = Meta($"{name}-spec", ns, labels), Data = new Dictionary<string, string> { [SpecFile] = specYaml } }),
            new("21-persistentvolumeclaim.yaml", new V1PersistentVolumeClaim
            {
                ApiVersion = "v1",
                Kind = "PersistentVolumeClaim",
                Metadata = Meta($"{name}-home", ns, daemonLabels),
                Spec = new V1PersistentVolumeClaimSpec
                {
                    AccessModes = ["ReadWriteOnce"],
                    Resources = new V1VolumeResourceRequirements { Requests = new Dictionary<string, ResourceQuantity> { ["storage"] = storage } },
                },
            }),
            new("30-deployment.yaml", Deployment(service, name, ns, image, port, account, daemonLabels, selector, options.Force)),
            new("31-service.yaml", new V1Service
            {
                ApiVersion = "v1",
                Kind = "Service",
                Metadata = Meta(name, ns, labels),
                Spec = new V1ServiceSpec
                {
                    Type = "ClusterIP",
                    Selector = selector,
                    Ports = [new V1ServicePort { Name = "endpoint", Port = port, TargetPort = "endpoint", Protocol = "TCP" }],
                },
            }),
        ];

        return new KubernetesExport { Service = service, Namespace = ns, EndpointPort = port, Manifests = manifests, Notes = notes };
    }

    /// <summary>One manifest as YAML (KubernetesClient's serializer: the field names and shapes the API server takes).</summary>
    public static string ToYaml(KubernetesManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        return KubernetesYaml.Serialize(manifest.Object);
    }

    /// <summary>
    /// The spec the daemon is given: as written when its endpoint already listens on every interface at a fixed port (the
    /// Service must reach it), else rewritten with <c>service.load_balancer</c> host 0.0.0.0 and the port, with a note.
    /// </summary>
    private static (string Yaml, int Port) InClusterSpec(ServiceSpec spec, string yaml, KubernetesExportOptions options, List<string> notes)
    {
        var lb = spec.Service.LoadBalancer;
        if (options.EndpointPort is { } given && lb.Port is { } fixedPort && given != fixedPort)
            throw new ExportException($"--endpoint-port {given} disagrees with the spec's service.load_balancer.port {fixedPort}; drop one");
        var port = lb.Port ?? options.EndpointPort ?? KubernetesExportOptions.DefaultEndpointPort;
        if (port is < 1 or > 65535)
            throw new ExportException($"--endpoint-port {port} is not a TCP port (1-65535)");
        if (lb.Host == "0.0.0.0" && lb.Port is not null)
            return (yaml, port);
        notes.Add($"the spec in the ConfigMap is rewritten with service.load_balancer host 0.0.0.0 and port {port.ToString(CultureInfo.InvariantCulture)}, so the Service reaches the endpoint (comments are not kept)");
        var rewritten = spec with { Service = spec.Service with { LoadBalancer = lb with { Host = "0.0.0.0", Port = port } } };
        return (rewritten.ToYaml(), port);
    }

    private static string NamespaceFor(ServiceSpec spec, KubernetesExportOptions options)
    {
        var fromTier = spec.Tiers.FirstOrDefault(t => t.Provider == TierProvider.Kubernetes && t.Settings.ContainsKey("namespace"));
        var ns = options.Namespace ?? fromTier?.Settings["namespace"]?.ToString() ?? KubernetesExportOptions.DefaultNamespace;
        if (!DnsLabel().IsMatch(ns) || ns.Length > 63)
        {
            var origin = options.Namespace is not null ? "--namespace" : $"tier '{fromTier!.Name}' settings.namespace";
            throw new ExportException($"{origin} '{ns}' is not a Kubernetes namespace name (lowercase letters, digits and '-', at most 63)");
        }

        return ns;
    }

    /// <summary>The service name as an object name: lowercase, '_' and '.' as '-'; short enough for the longest suffix.</summary>
    private static string ObjectName(string service)
    {
        var name = service.ToLowerInvariant().Replace('_', '-').Replace('.', '-');
        return DnsLabel().IsMatch(name) && name.Length <= 50
            ? name
            : throw new ExportException($"service name '{service}' cannot name Kubernetes objects (as '{name}': lowercase letters, digits and '-', at most 50); pass --name");
    }

    private static V1ObjectMeta Meta(string name, string? ns, Dictionary<string, string> labels) =>
        new() { Name = name, NamespaceProperty = ns, Labels = new Dictionary<string, string>(labels) };

    [GeneratedRegex("^[a-z]([-a-z0-9]*[a-z0-9])?$")]
    private static partial Regex DnsLabel();
}
