namespace WrinkleFree.Service.LoadBalancing;

/// <summary>A policy that can use the identity of the candidates and a key taken from the request's prompt.</summary>
internal interface IPrefixAffinityPolicy
{
    /// <summary>How many leading bytes of prompt text <see cref="PromptPrefixKey"/> hashes into the key.</summary>
    int PrefixBytes { get; }

    /// <summary>Returns the index of the chosen candidate; the spans have the same non-zero length.</summary>
    int Pick(ReadOnlySpan<string> ids, ReadOnlySpan<int> inFlight, ulong key);
}
