namespace WrinkleFree.Testing.Cloud;

/// <summary>
/// An error every instances.insert in a zone meets until cleared. Without <see cref="HttpStatus"/> the insert is accepted
/// and its operation ends DONE with error.errors[0].code = <see cref="Code"/> (how GCE reports ZONE_RESOURCE_POOL_EXHAUSTED);
/// with it, the insert call itself fails with GCE's JSON error body whose errors[0].reason is <see cref="Code"/>
/// (how a 403 quotaExceeded comes back).
/// </summary>
public sealed record GceInjectedError(string Code, string Message, int? HttpStatus = null)
{
    public static GceInjectedError ResourcePoolExhausted(string zone) =>
        new("ZONE_RESOURCE_POOL_EXHAUSTED", $"The zone 'projects/wf/zones/{zone}' does not have enough resources available to fulfill the request. Try a different zone, or try again later.");

    public static GceInjectedError CpuQuota(string region) =>
        new("QUOTA_EXCEEDED", $"Quota 'CPUS' exceeded. Limit: 24.0 in region {region}.");
}
