using System.Globalization;
using System.Net;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace WrinkleFree.Jobs.Checkpoints;

/// <summary>
/// Checkpoints as objects <c>PREFIX/checkpoint-STEP/FILE</c> in an S3 (or S3-compatible) bucket. The manifest object is
/// uploaded last and its presence commits the checkpoint; old checkpoints are pruned only after that. Every request is
/// retried with doubling backoff; errors retrying cannot fix (no bucket, bad credentials) are surfaced at once.
/// </summary>
internal sealed class S3CheckpointStore : ICheckpointStore
{
    private readonly S3Location _location;
    private readonly CheckpointStoreOptions _options;
    private readonly AmazonS3Client _client;
    private readonly string _endpointText;

    public S3CheckpointStore(S3Location location, CheckpointStoreOptions options)
    {
        _location = location;
        _options = options;
        var endpoint = options.S3Endpoint
            ?? NonEmpty(Environment.GetEnvironmentVariable("AWS_ENDPOINT_URL_S3"))
            ?? NonEmpty(Environment.GetEnvironmentVariable("AWS_ENDPOINT_URL"))
            ?? NonEmpty(Environment.GetEnvironmentVariable("WF_S3_ENDPOINT"));
        var region = options.S3Region
            ?? NonEmpty(Environment.GetEnvironmentVariable("AWS_REGION"))
            ?? NonEmpty(Environment.GetEnvironmentVariable("AWS_DEFAULT_REGION"))
            ?? "us-east-1";
        var config = new AmazonS3Config
        {
            // Our loop below retries with backoff on the injected clock; the SDK's own retries would multiply it.
            MaxErrorRetry = 0,
            // S3-compatible servers (s3rver, MinIO) want path-style URLs and no flexible-checksum trailers.
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

        _endpointText = endpoint ?? $"AWS {region}";
        var key = options.S3AccessKeyId ?? NonEmpty(Environment.GetEnvironmentVariable("AWS_ACCESS_KEY_ID"));
        var secret = options.S3SecretAccessKey ?? NonEmpty(Environment.GetEnvironmentVariable("AWS_SECRET_ACCESS_KEY"));
        _client = key is not null && secret is not null
            ? new AmazonS3Client(new BasicAWSCredentials(key, secret), config)
            : new AmazonS3Client(config);
    }

    /// <summary>Test seam: called after each object of a save is uploaded; throwing from it stands in for a crash there.</summary>
    internal Action<string>? AfterObjectUploaded { get; set; }

    public async Task SaveAsync(long step, string stagingDirectory, CancellationToken cancellationToken)
    {
        var files = CheckpointNames.StagingFiles(step, stagingDirectory);
        var entries = new List<CheckpointFileEntry>(files.Count);
        foreach (var file in files)
        {
            var (size, sha) = await DurableFiles.HashAsync(Path.Combine(stagingDirectory, file), cancellationToken).ConfigureAwait(false);
            entries.Add(new CheckpointFileEntry(file, size, sha));
        }

        var manifest = new CheckpointManifest { Step = step, Created = _options.TimeProvider.GetUtcNow(), Files = entries };
        await UploadAsync(manifest, stagingDirectory, cancellationToken).ConfigureAwait(false);
        await PruneAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<long?> RestoreLatestAsync(string destinationDirectory, CancellationToken cancellationToken) =>
        await RestoredFiles.NewestAsync(
            await ListAsync(cancellationToken).ConfigureAwait(false),
            step => TryRestoreAsync(step, destinationDirectory, cancellationToken)).ConfigureAwait(false);

    public async Task<IReadOnlyList<long>> ListAsync(CancellationToken cancellationToken) =>
        (await ListFoldersAsync(cancellationToken).ConfigureAwait(false)).Where(f => f.Value.Committed).Select(f => f.Key).Order().ToList();

    public Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public ValueTask DisposeAsync()
    {
        _client.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// Uploads the files of <paramref name="manifest"/> from <paramref name="sourceDirectory"/>, then the manifest. An older
    /// checkpoint of the same step is uncommitted first (its manifest deleted) so it never lists files it no longer has.
    /// </summary>
    internal async Task UploadAsync(CheckpointManifest manifest, string sourceDirectory, CancellationToken cancellationToken)
    {
        var prefix = _location.CheckpointPrefix(manifest.Step);
        var manifestKey = prefix + CheckpointManifest.FileName;
        await RetryAsync($"delete {manifestKey}", ct => _client.DeleteObjectAsync(new DeleteObjectRequest { BucketName = _location.Bucket, Key = manifestKey }, ct), cancellationToken).ConfigureAwait(false);
        foreach (var entry in manifest.Files)
        {
            var key = prefix + entry.Path;
            var path = Path.Combine(sourceDirectory, entry.Path);
            await RetryAsync($"upload {path} to {Describe(key)}", ct => _client.PutObjectAsync(new PutObjectRequest
            {
                BucketName = _location.Bucket,
                Key = key,
                FilePath = path,
                // s3rver stores aws-chunked bodies verbatim (chunk headers and all); plain bodies are stored intact.
                UseChunkEncoding = false,
            }, ct), cancellationToken).ConfigureAwait(false);
            AfterObjectUploaded?.Invoke(entry.Path);
        }

        var bytes = manifest.ToUtf8();
        await RetryAsync($"upload the manifest {Describe(manifestKey)}", ct => _client.PutObjectAsync(new PutObjectRequest
        {
            BucketName = _location.Bucket,
            Key = manifestKey,
            InputStream = new MemoryStream(bytes, writable: false),
            UseChunkEncoding = false,
            ContentType = "application/json",
        }, ct), cancellationToken).ConfigureAwait(false);

        // Objects an older save of this step left that the new manifest does not list.
        var folders = await ListFoldersAsync(cancellationToken).ConfigureAwait(false);
        if (folders.TryGetValue(manifest.Step, out var folder))
        {
            var wanted = manifest.Files.Select(f => prefix + f.Path).Append(manifestKey).ToHashSet(StringComparer.Ordinal);
            await DeleteKeysAsync(folder.Keys.Where(k => !wanted.Contains(k)), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Restores one step if its manifest parses and every object verifies; otherwise logs why and returns false.</summary>
    internal async Task<bool> TryRestoreAsync(long step, string destinationDirectory, CancellationToken cancellationToken)
    {
        var prefix = _location.CheckpointPrefix(step);
        var what = $"checkpoint {Describe(prefix)}";
        byte[]? bytes = null;
        await RetryAsync($"download {Describe(prefix + CheckpointManifest.FileName)}", async ct =>
        {
            bytes = await GetBytesAsync(prefix + CheckpointManifest.FileName, ct).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
        if (bytes is null)
        {
            _options.Log?.Invoke($"skipping {what}: its manifest is gone");
            return false;
        }

        var manifest = CheckpointManifest.TryParse(bytes, step, out var problem);
        if (manifest is null)
        {
            _options.Log?.Invoke($"skipping {what}: {problem}");
            return false;
        }

        return await RestoredFiles.RestoreAsync(manifest, destinationDirectory, async (entry, target, ct) =>
        {
            (long, string)? result = null;
            await RetryAsync($"download {Describe(prefix + entry.Path)}", async inner =>
            {
                if (File.Exists(target))
                {
                    File.Delete(target);
                }

                result = await DownloadAsync(prefix + entry.Path, target, inner).ConfigureAwait(false);
            }, ct).ConfigureAwait(false);
            return result;
        }, what, _options.Log, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Deletes all but the newest N committed checkpoints, and abandoned uploads older than the newest commit.</summary>
    internal async Task PruneAsync(CancellationToken cancellationToken)
    {
        var folders = await ListFoldersAsync(cancellationToken).ConfigureAwait(false);
        var committed = folders.Where(f => f.Value.Committed).Select(f => f.Key).Order().ToList();
        if (committed.Count == 0)
        {
            return;
        }

        var newest = committed[^1];
        var doomed = _options.KeepLastN > 0 ? committed.Take(Math.Max(0, committed.Count - _options.KeepLastN)).ToList() : [];
        doomed.AddRange(folders.Where(f => !f.Value.Committed && f.Key < newest).Select(f => f.Key));
        foreach (var step in doomed)
        {
            // The manifest goes first: a crash mid-delete leaves an uncommitted prefix, never a "valid" partial one.
            var prefix = _location.CheckpointPrefix(step);
            var manifestKey = prefix + CheckpointManifest.FileName;
            await DeleteKeysAsync(folders[step].Keys.Where(k => k == manifestKey), cancellationToken).ConfigureAwait(false);
            await DeleteKeysAsync(folders[step].Keys.Where(k => k != manifestKey), cancellationToken).ConfigureAwait(false);
            _options.Log?.Invoke(string.Create(CultureInfo.InvariantCulture, $"pruned checkpoint {Describe(prefix)}"));
        }
    }

    private async Task<Dictionary<long, Folder>> ListFoldersAsync(CancellationToken cancellationToken)
    {
        var folders = new Dictionary<long, Folder>();
        string? continuation = null;
        do
        {
            ListObjectsV2Response response = null!;
            await RetryAsync($"list {Describe(_location.ListPrefix)}", async ct =>
            {
                response = await _client.ListObjectsV2Async(new ListObjectsV2Request
                {
                    BucketName = _location.Bucket,
                    Prefix = _location.ListPrefix,
                    ContinuationToken = continuation,
                }, ct).ConfigureAwait(false);
            }, cancellationToken).ConfigureAwait(false);

            var skip = _location.Prefix.Length == 0 ? 0 : _location.Prefix.Length + 1;
            foreach (var item in response.S3Objects ?? [])
            {
                var rest = item.Key[skip..];
                var slash = rest.IndexOf('/');
                if (slash < 0 || CheckpointNames.StepOf(rest[..slash]) is not { } step)
                {
                    continue;
                }

                if (!folders.TryGetValue(step, out var folder))
                {
                    folders[step] = folder = new Folder();
                }

                folder.Keys.Add(item.Key);
                folder.Committed |= rest[(slash + 1)..] == CheckpointManifest.FileName;
            }

            continuation = response.IsTruncated == true ? response.NextContinuationToken : null;
        }
        while (continuation is not null);
        return folders;
    }

    private async Task DeleteKeysAsync(IEnumerable<string> keys, CancellationToken cancellationToken)
    {
        foreach (var key in keys.ToList())
        {
            await RetryAsync($"delete {Describe(key)}", ct => _client.DeleteObjectAsync(new DeleteObjectRequest { BucketName = _location.Bucket, Key = key }, ct), cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<byte[]?> GetBytesAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await _client.GetObjectAsync(new GetObjectRequest { BucketName = _location.Bucket, Key = key }, cancellationToken).ConfigureAwait(false);
            using var memory = new MemoryStream();
            await response.ResponseStream.CopyToAsync(memory, cancellationToken).ConfigureAwait(false);
            return memory.ToArray();
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound && e.ErrorCode != "NoSuchBucket")
        {
            return null;
        }
    }

    private async Task<(long, string)?> DownloadAsync(string key, string target, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await _client.GetObjectAsync(new GetObjectRequest { BucketName = _location.Bucket, Key = key }, cancellationToken).ConfigureAwait(false);
            return await DurableFiles.WriteAsync(response.ResponseStream, target, cancellationToken).ConfigureAwait(false);
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound && e.ErrorCode != "NoSuchBucket")
        {
            return null;
        }
    }

    private Task RetryAsync(string what, Func<CancellationToken, Task> action, CancellationToken cancellationToken) =>
        S3Retry.RunAsync(what, _options, _endpointText, action, cancellationToken);

    private string Describe(string key) => $"s3://{_location.Bucket}/{key}";

    private static string? NonEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    private sealed class Folder
    {
        public List<string> Keys { get; } = [];

        public bool Committed { get; set; }
    }
}
