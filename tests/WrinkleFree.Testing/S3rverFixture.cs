using System.Text.RegularExpressions;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using WrinkleFree.Jobs.Checkpoints;

namespace WrinkleFree.Testing;

/// <summary>
/// A real s3rver (npm) on a free loopback port with a temp data folder and one bucket, shared by the S3 tests. The path of
/// its launcher comes from WF_S3RVER (.ci/run sets it), else it is npm-installed into the shared test cache on first use.
/// </summary>
public sealed partial class S3rverFixture : IAsyncLifetime
{
    public const string Bucket = "wf-checkpoints";

    private readonly TempDirectory _data = new("wf-s3rver");
    private ListeningProcess? _process;

    public string Endpoint { get; private set; } = "";

    public async Task InitializeAsync()
    {
        var launcher = Environment.GetEnvironmentVariable("WF_S3RVER");
        if (string.IsNullOrEmpty(launcher) || !File.Exists(launcher))
        {
            // Not pre-installed (a plain `dotnet test` on a fresh machine): install it into the shared cache once.
            var prefix = await NpmPackage.EnsureAsync("s3rver", "s3rver", "3.7.1", Path.Combine("node_modules", ".bin", "s3rver"));
            launcher = Path.Combine(prefix, "node_modules", ".bin", "s3rver");
        }

        (_process, var listening) = await ListeningProcess.StartAsync(
            launcher, ["-d", _data.Path, "-a", "127.0.0.1", "-p", "0", "--configure-bucket", Bucket], Listening());
        Endpoint = $"http://127.0.0.1:{listening.Groups[1].Value}";
    }

    public CheckpointStoreOptions Options(string prefix, CheckpointMode mode = CheckpointMode.Copy, int keepLastN = 0, string? cache = null, List<string>? log = null) => new()
    {
        Location = $"s3://{Bucket}/{prefix}",
        Mode = mode,
        KeepLastN = keepLastN,
        CacheDirectory = cache,
        S3Endpoint = Endpoint,
        S3AccessKeyId = "S3RVER",
        S3SecretAccessKey = "S3RVER",
        S3Region = "us-east-1",
        RetryDelay = TimeSpan.FromMilliseconds(5),
        Log = log is null ? null : line => { lock (log) { log.Add(line); } },
    };

    /// <summary>Overwrites one object with other bytes, as a damaged upload would leave it.</summary>
    public async Task PutAsync(string key, byte[] bytes)
    {
        using var client = Client();
        await client.PutObjectAsync(new PutObjectRequest { BucketName = Bucket, Key = key, InputStream = new MemoryStream(bytes), UseChunkEncoding = false });
    }

    public async Task DeleteAsync(string key)
    {
        using var client = Client();
        await client.DeleteObjectAsync(Bucket, key);
    }

    /// <summary>Every key under <paramref name="prefix"/>, sorted.</summary>
    public async Task<List<string>> KeysAsync(string prefix)
    {
        using var client = Client();
        var response = await client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = Bucket, Prefix = prefix });
        return (response.S3Objects ?? []).Select(o => o.Key).Order(StringComparer.Ordinal).ToList();
    }

    public async Task<byte[]> GetAsync(string key)
    {
        using var client = Client();
        using var response = await client.GetObjectAsync(Bucket, key);
        using var memory = new MemoryStream();
        await response.ResponseStream.CopyToAsync(memory);
        return memory.ToArray();
    }

    private AmazonS3Client Client() => new(new BasicAWSCredentials("S3RVER", "S3RVER"), new AmazonS3Config
    {
        ServiceURL = Endpoint,
        ForcePathStyle = true,
        AuthenticationRegion = "us-east-1",
        RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
        ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
    });

    public Task DisposeAsync()
    {
        _process?.Dispose();
        _data.Dispose();
        return Task.CompletedTask;
    }

    [GeneratedRegex(@"listening on [^\s:]+:(\d+)")]
    private static partial Regex Listening();
}
