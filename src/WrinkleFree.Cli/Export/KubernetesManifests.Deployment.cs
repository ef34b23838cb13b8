using k8s.Models;

namespace WrinkleFree.Cli.Export;

public static partial class KubernetesManifests
{
    /// <summary>
    /// The daemon: one replica (strategy Recreate), non-root, WF_HOME on the claim, the spec mounted read-only, and a
    /// shell as PID 1 that starts the supervisor, waits for the daemon to answer, then runs <c>wf up</c> of the spec.
    /// </summary>
    private static V1Deployment Deployment(string service, string name, string ns, string image, int port, string account,
        Dictionary<string, string> labels, Dictionary<string, string> selector, bool force)
    {
        var up = $"wf up {SpecDirectory}/{SpecFile} --name {service} --detach" + (force ? " --force" : "");
        // The supervisor restarts the daemon if it dies. The script waits for the daemon to answer before `wf up`, which
        // would otherwise start a supervisor of its own. The shell is PID 1: it passes SIGTERM on so the daemon drains,
        // and exits when the supervisor does.
        var script = string.Join('\n',
            "set -eu",
            "wf daemon supervise &",
            "supervisor=$!",
            "trap 'kill -TERM \"$supervisor\"; wait \"$supervisor\"' TERM INT",
            "until wf daemon status >/dev/null 2>&1; do sleep 1; done",
            up,
            "wait \"$supervisor\"");
        return new V1Deployment
        {
            ApiVersion = "apps/v1",
            Kind = "Deployment",
            Metadata = Meta($"{name}-daemon", ns, labels),
            Spec = new V1DeploymentSpec
            {
                Replicas = 1,
                // The daemon's state is SQLite on a ReadWriteOnce volume: the old pod must be gone before the new one opens it.
                Strategy = new V1DeploymentStrategy { Type = "Recreate" },
                Selector = new V1LabelSelector { MatchLabels = selector },
                Template = new V1PodTemplateSpec
                {
                    Metadata = new V1ObjectMeta { Labels = labels },
                    Spec = new V1PodSpec
                    {
                        ServiceAccountName = account,
                        TerminationGracePeriodSeconds = 60,
                        SecurityContext = new V1PodSecurityContext
                        {
                            RunAsNonRoot = true,
                            RunAsUser = ImageUser,
                            RunAsGroup = ImageUser,
                            FsGroup = ImageUser,
                            SeccompProfile = new V1SeccompProfile { Type = "RuntimeDefault" },
                        },
                        Containers =
                        [
                            new V1Container
                            {
                                Name = "daemon",
                                Image = image,
                                Command = ["/bin/sh", "-c", script],
                                Env = [new V1EnvVar { Name = "WF_HOME", Value = HomeDirectory }],
                                Ports = [new V1ContainerPort { Name = "endpoint", ContainerPort = port, Protocol = "TCP" }],
                                ReadinessProbe = new V1Probe { TcpSocket = new V1TCPSocketAction { Port = "endpoint" }, PeriodSeconds = 10 },
                                VolumeMounts =
                                [
                                    new V1VolumeMount { Name = "home", MountPath = HomeDirectory },
                                    new V1VolumeMount { Name = "spec", MountPath = SpecDirectory, ReadOnlyProperty = true },
                                ],
                                SecurityContext = new V1SecurityContext
                                {
                                    AllowPrivilegeEscalation = false,
                                    Capabilities = new V1Capabilities { Drop = ["ALL"] },
                                },
                            },
                        ],
                        Volumes =
                        [
                            new V1Volume { Name = "home", PersistentVolumeClaim = new V1PersistentVolumeClaimVolumeSource { ClaimName = $"{name}-home" } },
                            new V1Volume { Name = "spec", ConfigMap = new V1ConfigMapVolumeSource { Name = $"{name}-spec" } },
                        ],
                    },
                },
            },
        };
    }
}
