namespace WrinkleFree.Service.Providers;

/// <summary>How many replicas a provider can hold for a tier now, and why, for plans and status (e.g. "3 of 3 nodes answer, 2 replicas each").</summary>
public sealed record TierCapacity(int Replicas, string Note);
