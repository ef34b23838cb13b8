namespace WrinkleFree.Replica.Metrics;

/// <summary>A backend whose engine keeps a prefix cache and can say how much prefill it saved.</summary>
internal interface IPrefixCacheReporter
{
    /// <summary>The counts so far, or null while no engine is loaded.</summary>
    PrefixCacheStats? GetPrefixCacheStats();
}
