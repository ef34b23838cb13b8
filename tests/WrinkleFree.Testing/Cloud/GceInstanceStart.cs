namespace WrinkleFree.Testing.Cloud;

/// <summary>
/// What <see cref="GceApiTestDouble.Runner"/> gets when an inserted instance boots: its name, zone, labels, whether it is
/// Spot, and its <c>user-data</c> metadata (the cloud-init the provider wrote).
/// </summary>
public sealed record GceInstanceStart(string Name, string Zone, IReadOnlyDictionary<string, string> Labels, bool Spot, string UserData);
