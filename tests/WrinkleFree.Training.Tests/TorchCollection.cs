namespace WrinkleFree.Training.Tests;

/// <summary>
/// Test classes that run torch numerics share one xUnit collection, so they never run at the same time: torch's thread
/// count is process-wide (a trainer sets it), and a reduction such as BitLinear's absmean scale split differently across
/// threads can move a weight across a trit boundary between two calls, which the engine-agreement tests would see.
/// </summary>
[CollectionDefinition(Name)]
public sealed class TorchCollection
{
    public const string Name = "torch numerics";
}
