using System.Globalization;
using k8s.Models;
using WrinkleFree.Service.Spec;

namespace WrinkleFree.Providers.Kubernetes.Pods;

/// <summary>
/// Turns a launch request into the replica's Pod and its files Secret. Pure (no I/O, no clock), so what is sent to the
/// API is pinned by snapshot tests of its YAML.
/// </summary>
internal static class ReplicaPodBuilder
{
    public const string ContainerName = "replica";
    public const string FilesMount = "/var/run/wrinklefree/files";
    public const string ModelMount = "/var/run/wrinklefree/model";

    // A few seconds between "deleted" and SIGTERM: endpoints and the balancer stop sending before the replica drains.
    private const int PreStopSeconds = 5;

    public static V1Pod Build(ReplicaPodInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var request = input.Request;
        var settings = input.Settings;
        var name = PodNames.Pod(request.Service, request.ReplicaId);
        var labels = PodNames.Labels(request.Service, request.ReplicaId, request.Version, request.Tier);
        var volumes = new List<V1Volume>();
        var mounts = new List<V1VolumeMount>();
        var envs = new SortedDictionary<string, string>(input.Envs.ToDictionary(), StringComparer.Ordinal);
        if (input.SecretFileVariables.Count > 0)
        {
            volumes.Add(new V1Volume { Name = "files", Secret = new V1SecretVolumeSource { SecretName = PodNames.FilesSecret(name), DefaultMode = 0x100 } });
            mounts.Add(new V1VolumeMount { Name = "files", MountPath = FilesMount, ReadOnlyProperty = true });
            foreach (var variable in input.SecretFileVariables)
                envs[variable] = FilesMount + "/" + SecretKey(variable);
        }

        var initContainers = new List<V1Container>();
        if (settings.Model is { } model)
            envs["MODEL_PATH"] = AddModel(model, volumes, mounts, initContainers);

        var port = input.ContainerPort;
        var container = new V1Container
        {
            Name = ContainerName,
            Image = settings.Image,
            Command = CommandOf(request.Run, request.Command, request.Arguments, request.Setup),
            Env = [.. envs.Select(e => new V1EnvVar { Name = e.Key, Value = e.Value })],
            Ports = [new V1ContainerPort { Name = "http", ContainerPort = port, Protocol = "TCP" }],
            Resources = ResourcesOf(request.Resources),
            // The kubelet has no client certificate for a mutual-TLS replica, so it checks that the port answers; the
            // controller's own prober checks /health with the service's certificate.
            ReadinessProbe = ProbeOf(input.Https, port, periodSeconds: 5, failureThreshold: 3),
            LivenessProbe = ProbeOf(input.Https, port, periodSeconds: 10, failureThreshold: 6),
            StartupProbe = ProbeOf(input.Https, port, periodSeconds: 5, failureThreshold: 120),
            Lifecycle = new V1Lifecycle { PreStop = new V1LifecycleHandler { Sleep = new V1SleepAction { Seconds = PreStopSeconds } } },
            VolumeMounts = mounts.Count > 0 ? mounts : null,
        };
        return new V1Pod
        {
            ApiVersion = "v1",
            Kind = "Pod",
            Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = settings.Namespace, Labels = labels },
            Spec = new V1PodSpec
            {
                Containers = [container],
                InitContainers = initContainers.Count > 0 ? initContainers : null,
                Volumes = volumes.Count > 0 ? volumes : null,
                // The controller replaces a replica that ends; a restart in place would hide the failure from it.
                RestartPolicy = "Never",
                TerminationGracePeriodSeconds = PreStopSeconds + (long)Math.Ceiling(input.DrainTimeout.TotalSeconds),
                NodeSelector = settings.NodeSelector.Count > 0 ? settings.NodeSelector.ToDictionary() : null,
                Tolerations = settings.Tolerations.Count > 0 ? [.. settings.Tolerations] : null,
                ServiceAccountName = settings.ServiceAccount,
                AutomountServiceAccountToken = settings.ServiceAccount is not null,
                ImagePullSecrets = settings.ImagePullSecrets.Count > 0 ? [.. settings.ImagePullSecrets.Select(s => new V1LocalObjectReference { Name = s })] : null,
                Hostname = input.Subdomain is null ? null : name,
                Subdomain = input.Subdomain,
                TopologySpreadConstraints =
                [
                    new V1TopologySpreadConstraint
                    {
                        MaxSkew = 1,
                        TopologyKey = "kubernetes.io/hostname",
                        WhenUnsatisfiable = "ScheduleAnyway",
                        LabelSelector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { [PodNames.ServiceLabel] = request.Service } },
                    },
                ],
            },
        };
    }

    /// <summary>The replica's files, owned by its pod so that deleting the pod deletes them.</summary>
    public static V1Secret BuildSecret(V1Pod created, IReadOnlyDictionary<string, byte[]> filesByVariable)
    {
        ArgumentNullException.ThrowIfNull(created);
        ArgumentNullException.ThrowIfNull(filesByVariable);
        return new V1Secret
        {
            ApiVersion = "v1",
            Kind = "Secret",
            Type = "Opaque",
            Metadata = new V1ObjectMeta
            {
                Name = PodNames.FilesSecret(created.Metadata.Name),
                NamespaceProperty = created.Metadata.NamespaceProperty,
                Labels = created.Metadata.Labels?.ToDictionary(),
                OwnerReferences = [new V1OwnerReference { ApiVersion = "v1", Kind = "Pod", Name = created.Metadata.Name, Uid = created.Metadata.Uid, Controller = true, BlockOwnerDeletion = false }],
            },
            Data = filesByVariable.ToDictionary(f => SecretKey(f.Key), f => f.Value, StringComparer.Ordinal),
        };
    }

    /// <summary>The key (and file name) of a variable's file in the Secret: WF_TLS_CERT → wf-tls-cert.</summary>
    public static string SecretKey(string variable) => variable.ToLowerInvariant().Replace('_', '-');

    private static List<string> CommandOf(string? run, string? command, IReadOnlyList<string> arguments, string? setup)
    {
        // The setup runs first in the same shell; its failure fails the pod (set -e), as the other providers do.
        if (run is not null)
            return ["/bin/sh", "-c", setup is null ? run : "set -e\n" + setup + "\nset +e\n" + run];
        if (setup is null)
            return [command!, .. arguments];
        return ["/bin/sh", "-c", "set -e\n" + setup + "\nexec \"$0\" \"$@\"", command!, .. arguments];
    }

    private static V1ResourceRequirements? ResourcesOf(ResourcesSpec resources)
    {
        var cpus = ResourceFit.Cpus(resources);
        var memory = ResourceFit.MemoryGiB(resources);
        if (cpus is null && memory is null)
            return null;
        var requests = new Dictionary<string, ResourceQuantity>(StringComparer.Ordinal);
        var limits = new Dictionary<string, ResourceQuantity>(StringComparer.Ordinal);
        if (cpus is { } c)
        {
            requests["cpu"] = new ResourceQuantity(Millis(c));
            // "2+" asks for at least two: no ceiling then; otherwise the replica gets what it asked for and no more.
            if (resources.Cpus?.EndsWith('+') != true)
                limits["cpu"] = new ResourceQuantity(Millis(c));
        }

        if (memory is { } m)
        {
            // Memory is never overcommitted: a replica over its request would be the first to be OOM-killed anyway.
            var mebibytes = ((long)Math.Ceiling(m * 1024)).ToString(CultureInfo.InvariantCulture) + "Mi";
            requests["memory"] = new ResourceQuantity(mebibytes);
            if (resources.Memory?.EndsWith('+') != true)
                limits["memory"] = new ResourceQuantity(mebibytes);
        }

        return new V1ResourceRequirements { Requests = requests, Limits = limits.Count > 0 ? limits : null };
    }

    private static string Millis(double cpus) => ((long)Math.Ceiling(cpus * 1000)).ToString(CultureInfo.InvariantCulture) + "m";

    private static V1Probe ProbeOf(bool https, int port, int periodSeconds, int failureThreshold) => https
        ? new V1Probe { TcpSocket = new V1TCPSocketAction { Port = port }, PeriodSeconds = periodSeconds, FailureThreshold = failureThreshold }
        : new V1Probe { HttpGet = new V1HTTPGetAction { Path = "/health", Port = port, Scheme = "HTTP" }, PeriodSeconds = periodSeconds, FailureThreshold = failureThreshold };

    private static string AddModel(KubernetesModelSource model, List<V1Volume> volumes, List<V1VolumeMount> mounts, List<V1Container> initContainers)
    {
        if (model.Claim is { } claim)
        {
            volumes.Add(new V1Volume { Name = "model", PersistentVolumeClaim = new V1PersistentVolumeClaimVolumeSource { ClaimName = claim, ReadOnlyProperty = true } });
            mounts.Add(new V1VolumeMount { Name = "model", MountPath = ModelMount, ReadOnlyProperty = true });
            return ModelMount + "/" + model.PathInClaim;
        }

        // The model is fetched once per pod into a pod-local volume and checked before the replica may start.
        var file = ModelMount + "/" + Path.GetFileName(new Uri(model.S3Url!).AbsolutePath);
        volumes.Add(new V1Volume { Name = "model", EmptyDir = new V1EmptyDirVolumeSource() });
        mounts.Add(new V1VolumeMount { Name = "model", MountPath = ModelMount, ReadOnlyProperty = true });
        initContainers.Add(new V1Container
        {
            Name = "fetch-model",
            Image = FetchImage,
            Command =
            [
                "/bin/sh", "-c",
                "set -e\naws s3 cp \"$MODEL_URL\" \"$MODEL_FILE.part\"\necho \"$MODEL_SHA256  $MODEL_FILE.part\" | sha256sum -c -\nmv \"$MODEL_FILE.part\" \"$MODEL_FILE\"",
            ],
            Env = [new V1EnvVar { Name = "MODEL_URL", Value = model.S3Url }, new V1EnvVar { Name = "MODEL_SHA256", Value = model.Sha256 }, new V1EnvVar { Name = "MODEL_FILE", Value = file }],
            VolumeMounts = [new V1VolumeMount { Name = "model", MountPath = ModelMount }],
        });
        return file;
    }

    /// <summary>The image of the model fetcher: the AWS CLI (credentials from the pod's service account or node role).</summary>
    public const string FetchImage = "public.ecr.aws/aws-cli/aws-cli:2.22.35";
}
