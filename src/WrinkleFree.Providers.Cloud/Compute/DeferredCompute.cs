namespace WrinkleFree.Providers.Cloud.Compute;

/// <summary>
/// A compute whose construction is asynchronous (GCP resolves its credentials first): made on the first call, shared by
/// every later one; a failed construction is retried by the next call rather than remembered.
/// </summary>
internal sealed class DeferredCompute(string infra, Func<CancellationToken, Task<ICloudCompute>> create) : ICloudCompute
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private ICloudCompute? _compute;

    public string Infra => infra;

    public async Task<CloudInstance> LaunchAsync(CloudLaunch launch, CancellationToken cancellationToken) =>
        await (await GetAsync(cancellationToken).ConfigureAwait(false)).LaunchAsync(launch, cancellationToken).ConfigureAwait(false);

    public async Task<CloudInstance?> DescribeAsync(CloudInstanceRef instance, CancellationToken cancellationToken) =>
        await (await GetAsync(cancellationToken).ConfigureAwait(false)).DescribeAsync(instance, cancellationToken).ConfigureAwait(false);

    public async Task<IReadOnlyList<CloudInstance>> ListAsync(IReadOnlyList<string> locations, IReadOnlyDictionary<string, string> tags, CancellationToken cancellationToken) =>
        await (await GetAsync(cancellationToken).ConfigureAwait(false)).ListAsync(locations, tags, cancellationToken).ConfigureAwait(false);

    public async Task TerminateAsync(CloudInstanceRef instance, CancellationToken cancellationToken) =>
        await (await GetAsync(cancellationToken).ConfigureAwait(false)).TerminateAsync(instance, cancellationToken).ConfigureAwait(false);

    private async Task<ICloudCompute> GetAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _compute) is { } made)
            return made;
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return _compute ??= await create(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }
}
