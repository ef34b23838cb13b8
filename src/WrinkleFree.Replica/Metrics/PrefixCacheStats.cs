namespace WrinkleFree.Replica.Metrics;

/// <summary>Cumulative prefix-cache counts of one engine (pages cached is current, the rest only grow).</summary>
internal readonly record struct PrefixCacheStats(long PromptTokens, long HitTokens, long PrefilledTokens, long CachedPages, long PagesCached, long PagesEvicted);
