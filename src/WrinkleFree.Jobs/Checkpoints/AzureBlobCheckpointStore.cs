using System.Net;
using Azure;
using Azure.Identity;
using Azure.Storage;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;

namespace WrinkleFree.Jobs.Checkpoints;

/// <summary>
/// The object primitives on Azure Blob Storage (<c>az://account/container/prefix</c>). Credentials, first found wins: a
/// connection string (option or AZURE_STORAGE_CONNECTION_STRING, which also names the endpoint, as Azurite's does), an
/// account key (option or AZURE_STORAGE_KEY), else DefaultAzureCredential (environment, workload or managed identity, CLI).
/// </summary>
internal sealed class AzureBlobCheckpointStore : ObjectCheckpointStore
{
    private static readonly string[] CredentialCodes = ["AuthenticationFailed", "AuthorizationFailure", "AuthorizationPermissionMismatch", "InvalidAuthenticationInfo"];

    private readonly BlobContainerClient _container;

    public AzureBlobCheckpointStore(CheckpointLocation location, CheckpointStoreOptions options)
        : base(location, options)
    {
        var clientOptions = new BlobClientOptions();
        // The base class retries with backoff on the injected clock; the SDK's own retries would multiply it.
        clientOptions.Retry.MaxRetries = 0;
        var connection = options.AzureConnectionString ?? Variable("AZURE_STORAGE_CONNECTION_STRING");
        var key = options.AzureAccountKey ?? Variable("AZURE_STORAGE_KEY");
        var uri = new Uri($"https://{location.Account}.blob.core.windows.net/{location.Bucket}");
        try
        {
            _container = connection is not null ? new BlobContainerClient(connection, location.Bucket, clientOptions)
                : key is not null ? new BlobContainerClient(uri, new StorageSharedKeyCredential(location.Account, key), clientOptions)
                : new BlobContainerClient(uri, new DefaultAzureCredential(), clientOptions);
        }
        catch (Exception e) when (e is FormatException or ArgumentException)
        {
            throw new CheckpointStoreException($"checkpoint store '{location}': the Azure connection string or account key is malformed ({e.Message})", e);
        }

        EndpointText = _container.Uri.GetLeftPart(UriPartial.Authority);
    }

    protected override string EndpointText { get; }

    public override ValueTask DisposeAsync() => ValueTask.CompletedTask;

    protected override Task PutFileAsync(string key, string path, CancellationToken cancellationToken) =>
        _container.GetBlobClient(key).UploadAsync(path, overwrite: true, cancellationToken);

    protected override Task PutBytesAsync(string key, byte[] bytes, string contentType, CancellationToken cancellationToken) =>
        _container.GetBlobClient(key).UploadAsync(new BinaryData(bytes), new BlobUploadOptions { HttpHeaders = new BlobHttpHeaders { ContentType = contentType } }, cancellationToken);

    protected override async Task<bool> ReadObjectAsync(string key, Stream destination, CancellationToken cancellationToken)
    {
        try
        {
            await _container.GetBlobClient(key).DownloadToAsync(destination, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (RequestFailedException e) when (e.ErrorCode == "BlobNotFound")
        {
            return false;
        }
    }

    protected override async Task<(IReadOnlyList<string> Keys, string? Next)> ListPageAsync(string prefix, string? pageToken, CancellationToken cancellationToken)
    {
        await foreach (var page in _container.GetBlobsAsync(BlobTraits.None, BlobStates.None, prefix, cancellationToken).AsPages(pageToken).ConfigureAwait(false))
        {
            return (page.Values.Select(b => b.Name).ToList(), string.IsNullOrEmpty(page.ContinuationToken) ? null : page.ContinuationToken);
        }

        return ([], null);
    }

    protected override Task DeleteObjectAsync(string key, CancellationToken cancellationToken) =>
        _container.GetBlobClient(key).DeleteIfExistsAsync(cancellationToken: cancellationToken);

    protected override string? PermanentProblem(Exception error) => error switch
    {
        RequestFailedException { ErrorCode: "ContainerNotFound" } => "ContainerNotFound; create the container first or fix the az:// location",
        RequestFailedException { ErrorCode: "InvalidResourceName" } => "InvalidResourceName; fix the container name in the az:// location",
        RequestFailedException { ErrorCode: { } code } e when CredentialCodes.Contains(code) =>
            $"{code} ({FirstLine(e.Message)}); check AZURE_STORAGE_CONNECTION_STRING / AZURE_STORAGE_KEY or the identity's role on the container",
        AuthenticationFailedException e =>
            $"no Azure credential ({FirstLine(e.Message)}); set AZURE_STORAGE_CONNECTION_STRING or AZURE_STORAGE_KEY, or sign in with an identity DefaultAzureCredential finds",
        _ => null,
    };

    protected override bool IsTransient(Exception error) => error is RequestFailedException e
        && (e.Status is 0 or (int)HttpStatusCode.RequestTimeout or (int)HttpStatusCode.TooManyRequests || e.Status >= 500);

    private static string FirstLine(string text) => text.Split('\n', 2)[0].Trim();

    private static string? Variable(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : null;
}
