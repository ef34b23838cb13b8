using System.Net;
using Amazon.Runtime;
using Amazon.S3;

namespace WrinkleFree.Jobs.Checkpoints;

/// <summary>Retries one S3 request with doubling backoff on the injected clock, and words the final error for a person.</summary>
internal static class S3Retry
{
    private static readonly string[] Permanent = ["NoSuchBucket", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidBucketName"];

    public static async Task RunAsync(string what, CheckpointStoreOptions options, string endpoint, Func<CancellationToken, Task> action, CancellationToken cancellationToken)
    {
        var delay = options.RetryDelay;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await action(cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (AmazonS3Exception e) when (e.ErrorCode is { } code && Permanent.Contains(code))
            {
                throw new CheckpointStoreException($"cannot {what} at {endpoint}: {code} ({e.Message}); {Advice(code)}", e);
            }
            catch (Exception e) when (IsTransient(e, cancellationToken) && attempt < options.MaxAttempts)
            {
                options.Log?.Invoke($"{what} failed (attempt {attempt} of {options.MaxAttempts}: {e.Message}); retrying in {delay.TotalSeconds:0.###} s");
                await Task.Delay(delay, options.TimeProvider, cancellationToken).ConfigureAwait(false);
                delay *= 2;
            }
            catch (Exception e) when (IsTransient(e, cancellationToken))
            {
                throw new CheckpointStoreException($"cannot {what} at {endpoint}: gave up after {attempt} attempts; last error: {e.Message}", e);
            }
        }
    }

    private static bool IsTransient(Exception e, CancellationToken cancellationToken) => e switch
    {
        OperationCanceledException => !cancellationToken.IsCancellationRequested,
        AmazonS3Exception s3 => s3.StatusCode is HttpStatusCode.InternalServerError or HttpStatusCode.ServiceUnavailable or HttpStatusCode.BadGateway
            or HttpStatusCode.GatewayTimeout or HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests || (int)s3.StatusCode == 0,
        AmazonServiceException or AmazonClientException or HttpRequestException or IOException => true,
        _ => false,
    };

    private static string Advice(string code) => code switch
    {
        "NoSuchBucket" => "create the bucket first or fix the s3:// location",
        "InvalidBucketName" => "fix the bucket name in the s3:// location",
        _ => "check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY and the bucket's permissions",
    };
}
