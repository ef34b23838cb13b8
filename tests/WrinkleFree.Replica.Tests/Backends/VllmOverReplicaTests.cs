using System.ClientModel;
using System.Diagnostics;
using OpenAI;
using OpenAI.Chat;

namespace WrinkleFree.Replica.Tests.Backends;

/// <summary>
/// The vllm backend with a second real <c>wf replica --backend bitnet</c> process as its upstream, started and supervised
/// by the front replica through <c>--upstream-command</c>: the same OpenAI API works through both, and when the upstream
/// process is SIGKILLed the front replica reports 503 until it has restarted it.
/// </summary>
public sealed class VllmOverReplicaTests
{
    [Fact]
    public async Task VllmBackend_SupervisedBitnetReplica_ServesRestartsAfterKillAndServesAgain()
    {
        var marker = "upstream-" + Guid.NewGuid().ToString("N")[..8];
        await using var front = await StartFrontAsync(marker);
        using var http = TestReplica.Client(front);

        var chat = new ChatClient(marker, new ApiKeyCredential("unused"), new OpenAIClientOptions { Endpoint = new Uri(front.Address, "/v1") });
        ChatCompletion first = await chat.CompleteChatAsync([new UserChatMessage("Say hello")], new ChatCompletionOptions { MaxOutputTokenCount = 6, Temperature = 0 }).WaitAsync(TestReplica.Timeout);
        Assert.Equal(6, first.Usage.OutputTokenCount);
        Assert.True(first.Usage.InputTokenCount > 0);

        var health = await TestReplica.PollHealthAsync(http, h => h.GetProperty("status").GetString() == "ok");
        Assert.Equal("vllm", health.GetProperty("backend").GetString());

        KillUpstream(marker);
        await TestReplica.PollHealthAsync(http, h => h.GetProperty("status").GetString() != "ok");
        await TestReplica.PollHealthAsync(http, h => h.GetProperty("status").GetString() == "ok");

        ChatCompletion again = await chat.CompleteChatAsync([new UserChatMessage("Say hello")], new ChatCompletionOptions { MaxOutputTokenCount = 6, Temperature = 0 }).WaitAsync(TestReplica.Timeout);
        Assert.Equal(first.Content[0].Text, again.Content[0].Text);
    }

    [Fact]
    public async Task VllmBackend_EchoWithLogprobs_ForwardsPromptScoringAndMatchesTheBitnetBackend()
    {
        var marker = "upstream-" + Guid.NewGuid().ToString("N")[..8];
        await using var front = await StartFrontAsync(marker);
        await using var direct = await TestReplica.StartAsync();
        using var viaVllm = TestReplica.Client(front);
        using var viaBitnet = TestReplica.Client(direct);
        var request = TestReplica.Json(new { prompt = "The quick brown fox jumps", max_tokens = 1, echo = true, logprobs = 2, temperature = 0 });

        var (status, proxied, _) = await TestReplica.PostAsync(viaVllm, "/v1/completions", request);
        var (_, local, _) = await TestReplica.PostAsync(viaBitnet, "/v1/completions", request);

        Assert.Equal(200, status);
        var a = proxied.GetProperty("choices")[0];
        var b = local.GetProperty("choices")[0];
        Assert.Equal(b.GetProperty("text").GetString(), a.GetProperty("text").GetString());
        var la = a.GetProperty("logprobs");
        var lb = b.GetProperty("logprobs");
        Assert.Equal(lb.GetProperty("tokens").EnumerateArray().Select(t => t.GetString()), la.GetProperty("tokens").EnumerateArray().Select(t => t.GetString()));
        Assert.Equal(lb.GetProperty("text_offset").EnumerateArray().Select(t => t.GetInt32()), la.GetProperty("text_offset").EnumerateArray().Select(t => t.GetInt32()));
        var va = la.GetProperty("token_logprobs").EnumerateArray().ToArray();
        var vb = lb.GetProperty("token_logprobs").EnumerateArray().ToArray();
        Assert.Equal(System.Text.Json.JsonValueKind.Null, va[0].ValueKind);
        for (var i = 1; i < vb.Length; i++)
        {
            Assert.Equal(vb[i].GetDouble(), va[i].GetDouble(), 1e-3 * Math.Max(1, Math.Abs(vb[i].GetDouble())));
            Assert.Equal(2, la.GetProperty("top_logprobs")[i].EnumerateObject().Count());
        }

        Assert.Equal(local.GetProperty("usage").GetProperty("prompt_tokens").GetInt32(), proxied.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(1, proxied.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
    }

    /// <summary>A vllm-backend replica supervising a bitnet replica process whose command line carries <paramref name="marker"/>.</summary>
    private static Task<ReplicaHost> StartFrontAsync(string marker)
    {
        var command = $"WF_PEAK_BANDWIDTH_GBPS=10 exec dotnet '{ReplicaProcessTests.WfDll}' replica --backend bitnet --model '{TestReplica.ModelPath}' "
            + $"--model-id {marker} --host 127.0.0.1 --port $UPSTREAM_PORT --threads 1";
        return TestReplica.StartAsync(o => o with { Backend = "vllm", ModelPath = null, ModelId = null, UpstreamCommand = command });
    }

    private static void KillUpstream(string marker)
    {
        using var pkill = Process.Start("pkill", ["-KILL", "-f", marker])!;
        pkill.WaitForExit();
        Assert.Equal(0, pkill.ExitCode);
    }
}
