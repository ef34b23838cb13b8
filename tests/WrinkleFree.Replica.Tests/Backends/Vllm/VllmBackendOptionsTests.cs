using WrinkleFree.Replica.Backends.Vllm;

namespace WrinkleFree.Replica.Tests.Backends.Vllm;

public sealed class VllmBackendOptionsTests
{
    [Fact]
    public void Validate_NeitherUrlNorCommand_NamesBoth()
    {
        var e = Assert.Throws<ArgumentException>(() => new VllmBackendOptions().Validate());

        Assert.Contains("UpstreamUrl", e.Message, StringComparison.Ordinal);
        Assert.Contains("UpstreamCommand", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ftp://host:1")]
    [InlineData("file:///tmp/x")]
    public void Validate_NonHttpUrl_Throws(string url)
    {
        var e = Assert.Throws<ArgumentException>(() => new VllmBackendOptions { UpstreamUrl = new Uri(url) }.Validate());

        Assert.Equal("UpstreamUrl", e.ParamName);
    }

    [Fact]
    public void Validate_BadValues_NameTheField()
    {
        var valid = new VllmBackendOptions { UpstreamCommand = "vllm serve m --port $UPSTREAM_PORT" };
        valid.Validate();

        Assert.Equal("HealthPath", Assert.Throws<ArgumentException>(() => (valid with { HealthPath = "health" }).Validate()).ParamName);
        Assert.Equal("UnhealthyThreshold", Assert.Throws<ArgumentException>(() => (valid with { UnhealthyThreshold = 0 }).Validate()).ParamName);
        Assert.Equal("RequestTimeout", Assert.Throws<ArgumentException>(() => (valid with { RequestTimeout = TimeSpan.Zero }).Validate()).ParamName);
        Assert.Equal("RestartBackoffMax", Assert.Throws<ArgumentException>(() => (valid with { RestartBackoffMax = TimeSpan.FromMilliseconds(1) }).Validate()).ParamName);
        Assert.Equal("ModelId", Assert.Throws<ArgumentException>(() => (valid with { ModelId = " " }).Validate()).ParamName);
    }

    [Fact]
    public void BackoffFor_Attempts_DoublesUpToTheCap()
    {
        var options = new VllmBackendOptions { RestartBackoff = TimeSpan.FromSeconds(1), RestartBackoffMax = TimeSpan.FromSeconds(10) };

        Assert.Equal(TimeSpan.FromSeconds(1), options.BackoffFor(0));
        Assert.Equal(TimeSpan.FromSeconds(2), options.BackoffFor(1));
        Assert.Equal(TimeSpan.FromSeconds(8), options.BackoffFor(3));
        Assert.Equal(TimeSpan.FromSeconds(10), options.BackoffFor(4));
        Assert.Equal(TimeSpan.FromSeconds(10), options.BackoffFor(1000));
    }

    [Fact]
    public void Constructor_InvalidOptions_Throws()
    {
        Assert.Throws<ArgumentException>(() => new VllmBackend(new VllmBackendOptions()));
    }
}
