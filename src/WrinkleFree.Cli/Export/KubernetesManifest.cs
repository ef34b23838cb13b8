using k8s;

namespace WrinkleFree.Cli.Export;

/// <summary>One object of a Kubernetes export and the file <c>--out DIR</c> writes it to (numbered in the order to apply).</summary>
public sealed record KubernetesManifest(string File, IKubernetesObject Object);
