namespace WrinkleFree.Providers.Cloud.Gcp;

/// <summary>
/// Where Compute Engine calls go and how they authenticate. The same <see cref="GceCompute"/> serves the real API and a
/// test double: only the root address and the token source differ.
/// </summary>
internal sealed record GceConnection(Uri Root, IGceTokenSource Tokens)
{
    /// <summary>The API's root; calls append compute/v1/projects/...</summary>
    public static readonly Uri GoogleRoot = new("https://compute.googleapis.com/");

    public const string EndpointVariable = "WF_GCE_ENDPOINT";

    public const string TokenVariable = "WF_GCE_TOKEN";

    /// <summary>
    /// The tier's <c>endpoint</c> setting, else <c>WF_GCE_ENDPOINT</c>, with the fixed token <c>WF_GCE_TOKEN</c> (or none);
    /// without either, Google's API with application default credentials.
    /// </summary>
    public static async Task<GceConnection> ResolveAsync(string? endpointSetting, Func<string, string?> environment, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(environment);
        var (endpoint, source) = !string.IsNullOrWhiteSpace(endpointSetting)
            ? (endpointSetting, "the tier's endpoint setting")
            : (environment(EndpointVariable), EndpointVariable);
        if (string.IsNullOrWhiteSpace(endpoint))
            return new GceConnection(GoogleRoot, await GceCredentialTokenSource.FromApplicationDefaultAsync(cancellationToken).ConfigureAwait(false));
        return new GceConnection(ParseRoot(endpoint, source), new GceFixedTokenSource(environment(TokenVariable) is { Length: > 0 } token ? token : null));
    }

    /// <summary>An http(s) URL without query; a trailing slash is added so relative paths append to it.</summary>
    public static Uri ParseRoot(string endpoint, string source)
    {
        if (!Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps) || uri.Query.Length > 0)
            throw new ArgumentException($"gcp: {source} '{endpoint}' is not an http(s) URL without query (e.g. http://127.0.0.1:8080/)", nameof(endpoint));
        return uri.AbsoluteUri.EndsWith('/') ? uri : new Uri(uri.AbsoluteUri + "/");
    }
}
