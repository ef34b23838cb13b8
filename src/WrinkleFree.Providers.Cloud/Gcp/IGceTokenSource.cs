namespace WrinkleFree.Providers.Cloud.Gcp;

/// <summary>Where the bearer token of each Compute Engine call comes from; null: the call goes without Authorization.</summary>
internal interface IGceTokenSource
{
    Task<string?> GetAccessTokenAsync(CancellationToken cancellationToken);
}
