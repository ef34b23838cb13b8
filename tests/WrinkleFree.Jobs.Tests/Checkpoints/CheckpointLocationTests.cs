using WrinkleFree.Jobs.Checkpoints;

namespace WrinkleFree.Jobs.Tests.Checkpoints;

public sealed class CheckpointLocationTests
{
    [Theory]
    [InlineData("s3://b/p/q", "s3", null, "b", "p/q")]
    [InlineData("r2://acct/b/p/", "r2", "acct", "b", "p")]
    [InlineData("gs://b", "gs", null, "b", "")]
    [InlineData("az://acct/c/p", "az", "acct", "c", "p")]
    public void Parse_EachScheme_SplitsAccountBucketAndPrefix(string text, string scheme, string? account, string bucket, string prefix) =>
        Assert.Equal(new CheckpointLocation(scheme, account, bucket, prefix), CheckpointLocation.Parse(text));

    [Theory]
    [InlineData("s3:///x", "no bucket name; write s3://BUCKET/PREFIX")]
    [InlineData("gs://", "no bucket name; write gs://BUCKET/PREFIX")]
    [InlineData("r2:///bucket/x", "no account name; write r2://ACCOUNT/BUCKET/PREFIX")]
    [InlineData("r2://acct", "no bucket name; write r2://ACCOUNT/BUCKET/PREFIX")]
    [InlineData("az://acct/", "no container name; write az://ACCOUNT/CONTAINER/PREFIX")]
    [InlineData("az:///c/x", "no account name; write az://ACCOUNT/CONTAINER/PREFIX")]
    public void Open_IncompleteLocation_NamesTheMissingPart(string text, string expected)
    {
        var error = Assert.Throws<CheckpointStoreException>(() => CheckpointStores.Open(new CheckpointStoreOptions { Location = text }));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("hdfs://namenode/x")]
    [InlineData("ftp://host/x")]
    public void Open_UnsupportedScheme_OneLineListingTheSupportedOnes(string text)
    {
        var error = Assert.Throws<CheckpointStoreException>(() => CheckpointStores.Open(new CheckpointStoreOptions { Location = text }));
        Assert.Equal($"checkpoint store '{text}' is not supported; use {CheckpointLocation.Supported}", error.Message);
        Assert.DoesNotContain('\n', error.Message);
        Assert.Equal(error.Message, CheckpointStores.Problem(text));
        Assert.Null(CheckpointStores.Problem("relative/folder"));
    }
}
