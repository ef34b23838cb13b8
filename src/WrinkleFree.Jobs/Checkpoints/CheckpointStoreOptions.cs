namespace WrinkleFree.Jobs.Checkpoints;

/// <summary>
/// Where and how to keep checkpoints. Provider settings left null are read from the environment when the store opens
/// (S3: <c>AWS_ENDPOINT_URL</c> or <c>WF_S3_ENDPOINT</c>, <c>AWS_ACCESS_KEY_ID</c>, <c>AWS_SECRET_ACCESS_KEY</c>, <c>AWS_REGION</c>;
/// R2: <c>WF_R2_ENDPOINT</c> and the same key pair; Azure: <c>AZURE_STORAGE_CONNECTION_STRING</c> or <c>AZURE_STORAGE_KEY</c>;
/// GCS: <c>WF_GCS_ENDPOINT</c>, else application-default credentials).
/// </summary>
public sealed record CheckpointStoreOptions
{
    /// <summary>A folder path, <c>s3://bucket/prefix</c>, <c>r2://ACCOUNT/bucket/prefix</c>, <c>gs://bucket/prefix</c> or <c>az://account/container/prefix</c>.</summary>
    public required string Location { get; init; }

    /// <summary>COPY (default) or MOUNT_CACHED. A local folder is always written directly, so the mode only matters for object stores.</summary>
    public CheckpointMode Mode { get; init; } = CheckpointMode.Copy;

    /// <summary>How many of the newest checkpoints to keep; 0 keeps all. Older ones are deleted only after a new one is durable.</summary>
    public int KeepLastN { get; init; }

    /// <summary>MOUNT_CACHED's local folder; default <c>$WF_HOME/cache/checkpoints/BUCKET/PREFIX</c>.</summary>
    public string? CacheDirectory { get; init; }

    /// <summary>
    /// S3 endpoint URL for s3:// and r2:// (an S3-compatible server such as MinIO or s3rver); null means AWS itself, or for
    /// r2:// https://ACCOUNT.r2.cloudflarestorage.com.
    /// </summary>
    public string? S3Endpoint { get; init; }

    /// <summary>Access key id; with <see cref="S3SecretAccessKey"/> null too, the SDK's default credential chain is used.</summary>
    public string? S3AccessKeyId { get; init; }

    /// <summary>Secret access key matching <see cref="S3AccessKeyId"/>.</summary>
    public string? S3SecretAccessKey { get; init; }

    /// <summary>Signing region; default <c>AWS_REGION</c>, else <c>us-east-1</c> (for r2://, <c>auto</c>).</summary>
    public string? S3Region { get; init; }

    /// <summary>Azure Storage connection string (names the endpoint and key; Azurite's works); default <c>AZURE_STORAGE_CONNECTION_STRING</c>.</summary>
    public string? AzureConnectionString { get; init; }

    /// <summary>Azure storage account key, used when there is no connection string; default <c>AZURE_STORAGE_KEY</c>.</summary>
    public string? AzureAccountKey { get; init; }

    /// <summary>GCS JSON API root of an emulator or test double, reached without credentials; default <c>WF_GCS_ENDPOINT</c>, else Google.</summary>
    public string? GcsEndpoint { get; init; }

    /// <summary>Attempts per object upload or download before the error is surfaced (backoff doubles from <see cref="RetryDelay"/>).</summary>
    public int MaxAttempts { get; init; } = 5;

    /// <summary>The first retry's delay.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Clock for manifest times and retry backoff.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Receives one line per notable event (a corrupt checkpoint skipped, an upload retried); null discards them.</summary>
    public Action<string>? Log { get; init; }

    /// <summary>True when <see cref="Location"/> names an object store (s3://, r2://, gs://, az://) rather than a folder.</summary>
    public bool IsObjectStore => CheckpointLocation.SchemeOf(Location) is not null;
}
