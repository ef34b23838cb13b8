using System.Net;
using System.Text;
using System.Text.Json;
using WrinkleFree.FakeUpstream;
using WrinkleFree.Service.LoadBalancing;

namespace WrinkleFree.Service.Tests.LoadBalancing;

public sealed class ServiceLoadBalancerStreamingTests
{
    [Fact]
    public async Task Proxy_StreamingResponse_FirstChunkArrivesBeforeTheUpstreamFinishes()
    {
        await using var harness = await BalancerHarness.StartAsync(1);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/stream") { Content = new StringContent("{}") };
        using var response = await harness.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead).WaitAsync(TestWait.Timeout);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());

        var first = await reader.ReadLineAsync().WaitAsync(TestWait.Timeout);
        Assert.Equal("data: first from r0", first);
        Assert.Equal(1, harness.Upstreams[0].Held);

        harness.Upstreams[0].Release();
        var rest = await reader.ReadToEndAsync().WaitAsync(TestWait.Timeout);
        Assert.Equal("\ndata: second\n\n", rest);
    }

    [Fact]
    public async Task Proxy_OpenAiChatStream_PassesChunksThroughAndPropagatesClientAbort()
    {
        await using var upstream = await FakeUpstreamServer.StartAsync(new FakeUpstreamOptions()).WaitAsync(TestWait.Timeout);
        await using var balancer = await ServiceLoadBalancer.StartAsync(new ServiceLoadBalancerOptions()).WaitAsync(TestWait.Timeout);
        balancer.UpdateReplicas([new ReplicaEndpoint("fake", upstream.BaseUrl, true)]);
        using var client = new HttpClient { BaseAddress = balancer.BaseUrl, Timeout = TestWait.Timeout };
        const string body = """{"model":"fake-model","stream":true,"max_tokens":4,"messages":[{"role":"user","content":"hi [hang]"}]}""";

        using (var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new StringContent(body, Encoding.UTF8, "application/json") })
        using (var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead).WaitAsync(TestWait.Timeout))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            var role = await ReadEventAsync(reader);
            Assert.Equal("assistant", role.GetProperty("choices")[0].GetProperty("delta").GetProperty("role").GetString());
            // The fake stalls after this token until its client goes away, so the token crossed the balancer unbuffered.
            var token = await ReadEventAsync(reader);
            Assert.Equal(" tok0", token.GetProperty("choices")[0].GetProperty("delta").GetProperty("content").GetString());
            Assert.Equal(1, balancer.GetInFlight()["fake"]);
        }

        await upstream.FirstAbort.WaitAsync(TestWait.Timeout);
        await TestWait.UntilAsync(() => balancer.GetInFlight()["fake"] == 0, "the aborted stream to leave the in-flight count");
    }

    private static async Task<JsonElement> ReadEventAsync(StreamReader reader)
    {
        while (true)
        {
            var line = await reader.ReadLineAsync().WaitAsync(TestWait.Timeout);
            Assert.NotNull(line);
            if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                return JsonDocument.Parse(line["data: ".Length..]).RootElement.Clone();
            }
        }
    }
}
