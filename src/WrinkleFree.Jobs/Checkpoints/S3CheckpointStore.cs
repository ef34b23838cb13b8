using System.Net;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace WrinkleFree.Jobs.Checkpoints;

/// <summary>
/// The object primitives on S3 and S3-compatible servers: AWS itself (<c>s3://</c>), Cloudflare R2 (<c>r2://</c>, its S3
/// API at https://ACCOUNT.r2.cloudflarestorage.com with region "auto"), MinIO or s3rver through an endpoint override.
/// </summary>
internal sealed class S3CheckpointStore : ObjectCheckpointStore
{
    private static readonly string[] Permanent = ["NoSuchBucket", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidBucketName"];

    private readonly AmazonS3Client _client;

    public S3CheckpointStore(CheckpointLocation location, CheckpointStoreOptions options)
        : base(location, options)
    {
        var r2 = location.Scheme == "r2";
        // R2 documents no variables of its own: its API tokens are an access key pair used through the AWS chain. An
        // AWS_ENDPOINT_URL meant for S3 must not send r2:// elsewhere, so R2 has its own override (tests point it at s3rver).
        var endpoint = options.S3Endpoint
            ?? (r2
                ? Variable("WF_R2_ENDPOINT") ?? $"https://{location.Account}.r2.cloudflarestorage.com"
                : Variable("AWS_ENDPOINT_URL_S3") ?? Variable("AWS_ENDPOINT_URL") ?? Variable("WF_S3_ENDPOINT"));
        var region = options.S3Region
            ?? (r2 ? "auto" : Variable("AWS_REGION") ?? Variable("AWS_DEFAULT_REGION") ?? "us-east-1");
        var config = new AmazonS3Config
        {
            // The base class retries with backoff on the injected clock; the SDK's own retries would multiply it.
            MaxErrorRetry = 0,
            // S3-compatible servers (s3rver, MinIO, R2) want path-style URLs and no flexible-checksum trailers.
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        };
        if (endpoint is not null)
        {
            config.ServiceURL = endpoint;
            config.ForcePathStyle = true;
            config.AuthenticationRegion = region;
        }
        else
        {
            config.RegionEndpoint = Amazon.RegionEndpoint.GetBySystemName(region);
        }

        EndpointText = endpoint ?? $"AWS {region}";
        var key = options.S3AccessKeyId ?? Variable("AWS_ACCESS_KEY_ID");
        var secret = options.S3SecretAccessKey ?? Variable("AWS_SECRET_ACCESS_KEY");
        _client = key is not null && secret is not null
            ? new AmazonS3Client(new BasicAWSCredentials(key, secret), config)
            : new AmazonS3Client(config);
    }

    protected override string EndpointText { get; }

    public override ValueTask DisposeAsync()
    {
        _client.Dispose();
        return ValueTask.CompletedTask;
    }

    protected override Task PutFileAsync(string key, string path, CancellationToken cancellationToken) =>
        _client.PutObjectAsync(new PutObjectRequest
        {
            BucketName = Location.Bucket,
            Key = key,
            FilePath = path,
            // s3rver stores aws-chunked bodies verbatim (chunk headers and all); plain bodies are stored intact.
            UseChunkEncoding = false,
        }, cancellationToken);

    protected override Task PutBytesAsync(string key, byte[] bytes, string contentType, CancellationToken cancellationToken) =>
        _client.PutObjectAsync(new PutObjectRequest
        {
            BucketName = Location.Bucket,
            Key = key,
            InputStream = new MemoryStream(bytes, writable: false),
            UseChunkEncoding = false,
            ContentType = contentType,
        }, cancellationToken);

    protected override async Task<bool> ReadObjectAsync(string key, Stream destination, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await _client.GetObjectAsync(new GetObjectRequest { BucketName = Location.Bucket, Key = key }, cancellationToken).ConfigureAwait(false);
            await response.ResponseStream.CopyToAsync(destination, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound && e.ErrorCode != "NoSuchBucket")
        {
            return false;
        }
    }

    protected override async Task<(IReadOnlyList<string> Keys, string? Next)> ListPageAsync(string prefix, string? pageToken, CancellationToken cancellationToken)
    {
        var response = await _client.ListObjectsV2Async(new ListObjectsV2Request
        {
            BucketName = Location.Bucket,
            Prefix = prefix,
            ContinuationToken = pageToken,
        }, cancellationToken).ConfigureAwait(false);
        return ((response.S3Objects ?? []).Select(o => o.Key).ToList(), response.IsTruncated == true ? response.NextContinuationToken : null);
    }

    protected override Task DeleteObjectAsync(string key, CancellationToken cancellationToken) =>
        _client.DeleteObjectAsync(new DeleteObjectRequest { BucketName = Location.Bucket, Key = key }, cancellationToken);

    protected override string? PermanentProblem(Exception error) =>
        error is AmazonS3Exception { ErrorCode: { } code } e && Permanent.Contains(code)
            ? $"{code} ({e.Message}); " + code switch
            {
                "NoSuchBucket" => $"create the bucket first or fix the {Location.Scheme}:// location",
                "InvalidBucketName" => $"fix the bucket name in the {Location.Scheme}:// location",
                _ when Location.Scheme == "r2" => "check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (an R2 API token's key pair) and the bucket's permissions",
                _ => "check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY and the bucket's permissions",
            }
            : null;

    protected override bool IsTransient(Exception error) => error switch
    {
        AmazonS3Exception s3 => s3.StatusCode is HttpStatusCode.InternalServerError or HttpStatusCode.ServiceUnavailable or HttpStatusCode.BadGateway
            or HttpStatusCode.GatewayTimeout or HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests || (int)s3.StatusCode == 0,
        AmazonServiceException or AmazonClientException => true,
        _ => false,
    };

    private static string? Variable(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : null;
}
