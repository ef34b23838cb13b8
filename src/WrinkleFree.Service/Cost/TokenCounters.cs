namespace WrinkleFree.Service.Cost;

/// <summary>
/// One replica's cumulative token counters as its /metrics last said (they restart from zero when its process restarts).
/// </summary>
public readonly record struct TokenCounters(string Service, int ReplicaId, long Generated, long Prompt);
