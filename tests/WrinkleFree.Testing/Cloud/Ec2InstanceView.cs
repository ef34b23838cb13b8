namespace WrinkleFree.Testing.Cloud;

/// <summary>An instance as the EC2 double holds it, for tests' assertions.</summary>
public sealed record Ec2InstanceView(
    string InstanceId,
    string Zone,
    string State,
    string? StateReasonCode,
    string PrivateIp,
    bool Spot,
    string ClientToken,
    IReadOnlyDictionary<string, string> Tags);
