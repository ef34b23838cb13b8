using System.Collections.Concurrent;
using WrinkleFree.Testing;
using WrinkleFree.Testing.Cloud;

namespace WrinkleFree.Providers.Cloud.Tests.Support;

/// <summary>
/// The EC2 double's runner for whole-service tests: every instance boots from its user-data (<see cref="UserDataReplica"/>)
/// with its files in a folder of its own and an instance metadata double of its own, kept by instance id so a test can
/// announce that instance's spot interruption.
/// </summary>
internal sealed class NoticedInstances : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, InstanceMetadataTestDouble> _metadata = new(StringComparer.Ordinal);
    private readonly TempDirectory _files = new("wf-cloud-instances");

    /// <summary>The metadata service of instance <paramref name="instanceId"/>.</summary>
    public InstanceMetadataTestDouble Metadata(string instanceId) =>
        _metadata.TryGetValue(instanceId, out var metadata) ? metadata : throw new InvalidOperationException($"instance {instanceId} never booted");

    /// <summary>Boots one instance; what it returns stops its replica (its metadata service stays until the end, for assertions).</summary>
    public IAsyncDisposable Start(Ec2InstanceStart start)
    {
        ArgumentNullException.ThrowIfNull(start);
        // The EC2 double's runner is synchronous: it boots the instance while answering RunInstances.
        var metadata = Task.Run(() => InstanceMetadataTestDouble.StartAsync()).WaitAsync(CloudFixture.Deadline).GetAwaiter().GetResult();
        _metadata[start.InstanceId] = metadata;
        return UserDataReplica.Start(start, _files.Sub(start.InstanceId), metadata.Url);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var metadata in _metadata.Values)
            await metadata.DisposeAsync().AsTask().WaitAsync(CloudFixture.Deadline);
        _files.Dispose();
    }
}
