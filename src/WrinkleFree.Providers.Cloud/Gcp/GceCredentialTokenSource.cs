using Google.Apis.Auth.OAuth2;
using WrinkleFree.Providers.Cloud.Compute;

namespace WrinkleFree.Providers.Cloud.Gcp;

/// <summary>
/// Tokens from Google's application default credentials (GOOGLE_APPLICATION_CREDENTIALS, gcloud's user credentials, or
/// the metadata server on a GCE VM), scoped to Compute Engine; the credential caches and refreshes the token itself.
/// </summary>
internal sealed class GceCredentialTokenSource(GoogleCredential credential) : IGceTokenSource
{
    public const string ComputeScope = "https://www.googleapis.com/auth/compute";

    private readonly ITokenAccess _access = credential.CreateScoped(ComputeScope);

    public static async Task<GceCredentialTokenSource> FromApplicationDefaultAsync(CancellationToken cancellationToken)
    {
        try
        {
            return new GceCredentialTokenSource(await GoogleCredential.GetApplicationDefaultAsync(cancellationToken).ConfigureAwait(false));
        }
        catch (InvalidOperationException e)
        {
            throw new CloudApiException(
                "gcp: no application default credentials (set GOOGLE_APPLICATION_CREDENTIALS to a service account key, run " +
                "`gcloud auth application-default login`, or run on a VM with a service account): " + e.Message, "NO_CREDENTIALS", e);
        }
    }

    public Task<string?> GetAccessTokenAsync(CancellationToken cancellationToken) =>
        _access.GetAccessTokenForRequestAsync(cancellationToken: cancellationToken)!;
}
