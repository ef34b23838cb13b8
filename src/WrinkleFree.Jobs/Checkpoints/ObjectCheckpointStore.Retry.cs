namespace WrinkleFree.Jobs.Checkpoints;

internal abstract partial class ObjectCheckpointStore
{
    /// <summary>
    /// For an error retrying cannot fix (no bucket, bad credentials): the provider's code and what to do about it, e.g.
    /// "NoSuchBucket; create the bucket first". Null for every other error.
    /// </summary>
    protected abstract string? PermanentProblem(Exception error);

    /// <summary>True for errors a later attempt may not see (5xx, throttling, timeouts, dropped connections).</summary>
    protected abstract bool IsTransient(Exception error);

    /// <summary>Runs one request with doubling backoff on the injected clock, and words the final error for a person.</summary>
    protected async Task RetryAsync(string what, Func<CancellationToken, Task> action, CancellationToken cancellationToken)
    {
        var delay = _options.RetryDelay;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await action(cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (Exception e) when (e is not CheckpointStoreException && PermanentProblem(e) is { } problem)
            {
                throw new CheckpointStoreException($"cannot {what} at {EndpointText}: {problem}", e);
            }
            catch (Exception e) when (Transient(e, cancellationToken) && attempt < _options.MaxAttempts)
            {
                _options.Log?.Invoke($"{what} failed (attempt {attempt} of {_options.MaxAttempts}: {e.Message}); retrying in {delay.TotalSeconds:0.###} s");
                await Task.Delay(delay, _options.TimeProvider, cancellationToken).ConfigureAwait(false);
                delay *= 2;
            }
            catch (Exception e) when (Transient(e, cancellationToken))
            {
                throw new CheckpointStoreException($"cannot {what} at {EndpointText}: gave up after {attempt} attempts; last error: {e.Message}", e);
            }
        }
    }

    // A cancellation the caller did not ask for is an SDK's request timeout: worth another attempt.
    private bool Transient(Exception e, CancellationToken cancellationToken) => e switch
    {
        OperationCanceledException => !cancellationToken.IsCancellationRequested,
        HttpRequestException or IOException => true,
        _ => IsTransient(e),
    };
}
