namespace WrinkleFree.Testing.Cloud;

/// <summary>
/// What the EC2 double hands a test's runner when an instance "boots": its id, zone, the loopback address it was given as
/// its private IP (127.0.0.N, one per instance, so every instance can listen on the tier's one port), its user-data and tags.
/// </summary>
public sealed record Ec2InstanceStart(string InstanceId, string Zone, string PrivateIp, string UserData, IReadOnlyDictionary<string, string> Tags);
