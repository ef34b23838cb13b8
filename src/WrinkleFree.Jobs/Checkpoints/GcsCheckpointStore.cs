using System.Net;
using Google;
using Google.Cloud.Storage.V1;

namespace WrinkleFree.Jobs.Checkpoints;

/// <summary>
/// The object primitives on Google Cloud Storage (<c>gs://bucket/prefix</c>) through its JSON API. Credentials come from the
/// application-default chain (GOOGLE_APPLICATION_CREDENTIALS, gcloud's application-default login, the metadata server);
/// <see cref="CheckpointStoreOptions.GcsEndpoint"/> points it, unauthenticated, at an emulator or test double instead.
/// </summary>
internal sealed class GcsCheckpointStore : ObjectCheckpointStore
{
    private readonly StorageClient _client;

    public GcsCheckpointStore(CheckpointLocation location, CheckpointStoreOptions options)
        : base(location, options)
    {
        var endpoint = options.GcsEndpoint ?? (Environment.GetEnvironmentVariable("WF_GCS_ENDPOINT") is { Length: > 0 } variable ? variable : null);
        try
        {
            _client = endpoint is null
                ? StorageClient.Create()
                : new StorageClientBuilder { BaseUri = endpoint.TrimEnd('/') + "/storage/v1/", UnauthenticatedAccess = true }.Build();
        }
        catch (InvalidOperationException e)
        {
            throw new CheckpointStoreException(
                $"checkpoint store '{location}': no Google credentials ({e.Message}); set GOOGLE_APPLICATION_CREDENTIALS to a key file or run `gcloud auth application-default login`", e);
        }

        EndpointText = endpoint ?? "Google Cloud Storage";
    }

    protected override string EndpointText { get; }

    public override ValueTask DisposeAsync()
    {
        _client.Dispose();
        return ValueTask.CompletedTask;
    }

    protected override async Task PutFileAsync(string key, string path, CancellationToken cancellationToken)
    {
        await using var input = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.Asynchronous | FileOptions.SequentialScan);
        await _client.UploadObjectAsync(Location.Bucket, key, "application/octet-stream", input, null, cancellationToken).ConfigureAwait(false);
    }

    protected override Task PutBytesAsync(string key, byte[] bytes, string contentType, CancellationToken cancellationToken) =>
        _client.UploadObjectAsync(Location.Bucket, key, contentType, new MemoryStream(bytes, writable: false), null, cancellationToken);

    protected override async Task<bool> ReadObjectAsync(string key, Stream destination, CancellationToken cancellationToken)
    {
        try
        {
            await _client.DownloadObjectAsync(Location.Bucket, key, destination, null, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (GoogleApiException e) when (e.HttpStatusCode == HttpStatusCode.NotFound && !IsNoBucket(e))
        {
            return false;
        }
    }

    protected override async Task<(IReadOnlyList<string> Keys, string? Next)> ListPageAsync(string prefix, string? pageToken, CancellationToken cancellationToken)
    {
        var page = await _client.ListObjectsAsync(Location.Bucket, prefix, new ListObjectsOptions
        {
            PageToken = pageToken,
            // Retries are the base class's, on the injected clock; the client's own would multiply them (its uploads and
            // downloads take no such option and keep their resumable-upload retries).
            RetryOptions = RetryOptions.Never,
        })
            .ReadPageAsync(1000, cancellationToken).ConfigureAwait(false);
        return (page.Select(o => o.Name).ToList(), string.IsNullOrEmpty(page.NextPageToken) ? null : page.NextPageToken);
    }

    protected override async Task DeleteObjectAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            await _client.DeleteObjectAsync(Location.Bucket, key, new DeleteObjectOptions { RetryOptions = RetryOptions.Never }, cancellationToken).ConfigureAwait(false);
        }
        catch (GoogleApiException e) when (e.HttpStatusCode == HttpStatusCode.NotFound && !IsNoBucket(e))
        {
        }
    }

    protected override string? PermanentProblem(Exception error) => error switch
    {
        GoogleApiException e when IsNoBucket(e) => $"no such bucket ({e.Error?.Message}); create the bucket first or fix the gs:// location",
        GoogleApiException { HttpStatusCode: HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden } e =>
            $"{(int)e.HttpStatusCode} {e.Error?.Message}; check GOOGLE_APPLICATION_CREDENTIALS and the account's role on the bucket",
        _ => null,
    };

    protected override bool IsTransient(Exception error) => error is GoogleApiException e
        && (e.HttpStatusCode is 0 or HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests || (int)e.HttpStatusCode >= 500);

    // GCS answers 404 for a missing bucket as for a missing object; only the message tells them apart.
    private static bool IsNoBucket(GoogleApiException e) =>
        e.HttpStatusCode == HttpStatusCode.NotFound && e.Error?.Message?.Contains("bucket", StringComparison.OrdinalIgnoreCase) == true;
}
