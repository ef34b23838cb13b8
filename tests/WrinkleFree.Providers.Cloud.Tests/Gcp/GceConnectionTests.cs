using WrinkleFree.Providers.Cloud.Gcp;

namespace WrinkleFree.Providers.Cloud.Tests.Gcp;

public sealed class GceConnectionTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task ResolveAsync_EndpointFromEnvironment_UsesItWithFixedToken()
    {
        var environment = new Dictionary<string, string> { [GceConnection.EndpointVariable] = "http://127.0.0.1:9999", [GceConnection.TokenVariable] = "t0k" };

        var connection = await GceConnection.ResolveAsync(null, environment.GetValueOrDefault, CancellationToken.None).WaitAsync(Timeout);

        Assert.Equal(new Uri("http://127.0.0.1:9999/"), connection.Root);
        Assert.Equal("t0k", await connection.Tokens.GetAccessTokenAsync(CancellationToken.None).WaitAsync(Timeout));
    }

    [Fact]
    public async Task ResolveAsync_TierEndpointWithoutToken_SendsNoToken()
    {
        var environment = new Dictionary<string, string> { [GceConnection.EndpointVariable] = "http://127.0.0.1:1/" };

        var connection = await GceConnection.ResolveAsync("http://127.0.0.1:2/api", environment.GetValueOrDefault, CancellationToken.None).WaitAsync(Timeout);

        Assert.Equal(new Uri("http://127.0.0.1:2/api/"), connection.Root);
        Assert.Null(await connection.Tokens.GetAccessTokenAsync(CancellationToken.None).WaitAsync(Timeout));
    }

    [Theory]
    [InlineData("compute.local")]
    [InlineData("ftp://127.0.0.1/")]
    [InlineData("http://127.0.0.1/?x=1")]
    public async Task ResolveAsync_EndpointNotHttpUrl_ThrowsNamingIt(string endpoint)
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(
            () => GceConnection.ResolveAsync(endpoint, _ => null, CancellationToken.None).WaitAsync(Timeout));

        Assert.Contains($"'{endpoint}'", error.Message, StringComparison.Ordinal);
        Assert.Contains("endpoint setting", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_ProjectIdInvalid_ThrowsNamingIt()
    {
        using var http = new HttpClient();
        var connection = new GceConnection(GceConnection.GoogleRoot, new GceFixedTokenSource(null));

        var error = Assert.Throws<ArgumentException>(() => new GceCompute(http, connection, "My_Project", TimeProvider.System));

        Assert.Contains("'My_Project'", error.Message, StringComparison.Ordinal);
    }
}
