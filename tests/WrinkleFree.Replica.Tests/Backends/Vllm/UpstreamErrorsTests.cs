using System.Net;
using System.Net.Http.Headers;
using WrinkleFree.Replica.Backends.Vllm;

namespace WrinkleFree.Replica.Tests.Backends.Vllm;

public sealed class UpstreamErrorsTests
{
    [Theory]
    [InlineData(400, """{"error":{"message":"bad temp","type":"invalid_request_error","param":"temperature","code":"bad"}}""", "bad temp", "invalid_request_error", "temperature")]
    [InlineData(400, """{"object":"error","message":"too long","type":"BadRequestError","param":null,"code":400}""", "too long", "BadRequestError", null)]
    [InlineData(404, """{"detail":"Not Found"}""", "Not Found", "invalid_request_error", null)]
    [InlineData(500, "Internal Server Error", "Internal Server Error", "server_error", null)]
    [InlineData(422, """{"error":"plain"}""", "plain", "invalid_request_error", null)]
    public async Task FromResponseAsync_UpstreamBodies_KeepStatusMessageTypeAndParam(int status, string body, string message, string type, string? param)
    {
        using var response = new HttpResponseMessage((HttpStatusCode)status) { Content = new StringContent(body) };

        var e = await UpstreamErrors.FromResponseAsync(response, TimeProvider.System, CancellationToken.None);

        Assert.Equal(status, e.Status);
        Assert.Equal(message, e.Message);
        Assert.Equal(type, e.Type);
        Assert.Equal(param, e.Param);
    }

    [Fact]
    public async Task FromResponseAsync_RetryAfter_IsForwarded()
    {
        using var response = new HttpResponseMessage(HttpStatusCode.TooManyRequests) { Content = new StringContent("""{"error":{"message":"busy"}}""") };
        response.Headers.RetryAfter = new RetryConditionHeaderValue(TimeSpan.FromSeconds(7));

        var e = await UpstreamErrors.FromResponseAsync(response, TimeProvider.System, CancellationToken.None);

        Assert.Equal(429, e.Status);
        Assert.Equal("rate_limit_error", e.Type);
        Assert.Equal(TimeSpan.FromSeconds(7), e.RetryAfter);
    }
}
