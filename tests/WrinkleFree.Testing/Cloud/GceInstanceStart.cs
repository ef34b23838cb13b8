namespace WrinkleFree.Testing.Cloud;

/// <summary>
/// What <see cref="GceApiTestDouble.Runner"/> gets when an inserted instance boots: its name, zone, labels, whether it is
/// Spot, its <c>user-data</c> metadata (the cloud-init the provider wrote), and the root of its own metadata server
/// (the stand-in for http://metadata.google.internal/: append computeMetadata/v1/instance/preempted).
/// </summary>
public sealed record GceInstanceStart(string Name, string Zone, IReadOnlyDictionary<string, string> Labels, bool Spot, string UserData, Uri MetadataRoot);
