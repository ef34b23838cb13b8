using WrinkleFree.Testing;

namespace WrinkleFree.Jobs.Tests.Checkpoints;

/// <summary>
/// The xUnit collection that shares one s3rver (<see cref="S3rverFixture"/>). xUnit only finds collection definitions in
/// the test assembly itself, so each assembly that uses the fixture declares this two-line class.
/// </summary>
[CollectionDefinition(Name)]
public sealed class S3rverCollection : ICollectionFixture<S3rverFixture>
{
    public const string Name = "s3rver";
}
