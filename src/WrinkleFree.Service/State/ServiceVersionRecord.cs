namespace WrinkleFree.Service.State;

/// <summary>One version of a service's spec; version 1 is the spec the service was created with.</summary>
public sealed record ServiceVersionRecord(string Service, int Version, string SpecYaml, DateTimeOffset CreatedAt);
