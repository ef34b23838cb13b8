using System.ClientModel;
using System.Diagnostics;
using OpenAI;
using OpenAI.Chat;

namespace WrinkleFree.Server.Tests.Backends;

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
        var command = $"WF_PEAK_BANDWIDTH_GBPS=10 exec dotnet '{ReplicaProcessTests.WfDll}' replica --backend bitnet --model '{TestReplica.ModelPath}' "
            + $"--model-id {marker} --host 127.0.0.1 --port $UPSTREAM_PORT --threads 1";
        await using var front = await TestReplica.StartAsync(o => o with { Backend = "vllm", ModelPath = null, ModelId = null, UpstreamCommand = command });
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

    private static void KillUpstream(string marker)
    {
        using var pkill = Process.Start("pkill", ["-KILL", "-f", marker])!;
        pkill.WaitForExit();
        Assert.Equal(0, pkill.ExitCode);
    }
}
