namespace WrinkleFree.Providers.Cloud.Gcp;

/// <summary>A token given up front (WF_GCE_TOKEN with an endpoint override), or none: the tests' double and local emulators.</summary>
internal sealed class GceFixedTokenSource(string? token) : IGceTokenSource
{
    public Task<string?> GetAccessTokenAsync(CancellationToken cancellationToken) => Task.FromResult(token);
}
