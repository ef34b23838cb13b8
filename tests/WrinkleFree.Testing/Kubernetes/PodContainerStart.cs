using k8s.Models;

namespace WrinkleFree.Testing.Kubernetes;

/// <summary>
/// What the test double's "kubelet" hands a test's container runner: the pod as created, its environment with every path
/// under a mounted Secret rewritten to the folder the Secret was written to, and a free loopback port to listen on.
/// </summary>
public sealed record PodContainerStart(V1Pod Pod, IReadOnlyDictionary<string, string> Environment, int LoopbackPort, string FilesFolder);
