using System.ClientModel;
using System.Text.Json;
using OpenAI;
using OpenAI.Chat;
using WrinkleFree.FakeUpstream;

namespace WrinkleFree.Replica.Tests.Backends.Vllm;

/// <summary>
/// The vllm backend runs no tool logic of its own: tools, tool_choice, parallel_tool_calls and the tool turns of the
/// conversation go to the upstream as sent, and the upstream's streamed tool calls come back to the client (the fake
/// upstream calls the forced tool as vLLM would).
/// </summary>
public sealed class VllmToolCallTests : IAsyncLifetime
{
    private static readonly ChatTool Weather = ChatTool.CreateFunctionTool("get_weather", "Weather in a city",
        BinaryData.FromString("""{"type": "object", "properties": {"city": {"type": "string"}}}"""));

    private FakeUpstreamServer _fake = null!;
    private ReplicaHost _front = null!;

    public async Task InitializeAsync()
    {
        _fake = await VllmTestSupport.StartFakeAsync(new FakeUpstreamOptions { ModelId = "up" });
        _front = await TestReplica.StartAsync(o => o with { Backend = "vllm", ModelPath = null, ModelId = null, UpstreamUrl = _fake.BaseUrl.ToString() });
    }

    public async Task DisposeAsync()
    {
        await _front.DisposeAsync();
        await _fake.DisposeAsync();
    }

    private ChatClient Chat() => new("up", new ApiKeyCredential("unused"),
        new OpenAIClientOptions { Endpoint = new Uri(_front.Address, "v1"), NetworkTimeout = TestReplica.Timeout });

    [Fact]
    public async Task CompleteChat_RequiredTool_ForwardsToolsAndReturnsTheUpstreamsCall()
    {
        var options = new ChatCompletionOptions { Tools = { Weather }, ToolChoice = ChatToolChoice.CreateRequiredChoice(), AllowParallelToolCalls = false };

        var completion = (await Chat().CompleteChatAsync([new UserChatMessage("Weather?")], options).WaitAsync(TestReplica.Timeout)).Value;

        Assert.Equal(ChatFinishReason.ToolCalls, completion.FinishReason);
        var call = Assert.Single(completion.ToolCalls);
        Assert.Equal(("call_fake0", "get_weather", """{"fake": true}"""), (call.Id, call.FunctionName, call.FunctionArguments.ToString()));
        using var sent = JsonDocument.Parse(_fake.LastRequestBody!);
        Assert.Equal("get_weather", sent.RootElement.GetProperty("tools")[0].GetProperty("function").GetProperty("name").GetString());
        Assert.Equal("required", sent.RootElement.GetProperty("tool_choice").GetString());
        Assert.False(sent.RootElement.GetProperty("parallel_tool_calls").GetBoolean());
    }

    [Fact]
    public async Task CompleteChatStreaming_NamedTool_StreamsTheUpstreamsDeltas()
    {
        var options = new ChatCompletionOptions { Tools = { Weather }, ToolChoice = ChatToolChoice.CreateFunctionChoice("get_weather") };
        string? id = null, name = null;
        var arguments = new System.Text.StringBuilder();
        ChatFinishReason? finish = null;
        using var cts = new CancellationTokenSource(TestReplica.Timeout);

        await foreach (var update in Chat().CompleteChatStreamingAsync([new UserChatMessage("Weather?")], options, cts.Token))
        {
            foreach (var part in update.ToolCallUpdates)
            {
                id ??= part.ToolCallId;
                name ??= part.FunctionName;
                arguments.Append(part.FunctionArgumentsUpdate?.ToString());
            }

            finish ??= update.FinishReason;
        }

        Assert.Equal(("call_fake0", "get_weather", """{"fake": true}"""), (id, name, arguments.ToString()));
        Assert.Equal(ChatFinishReason.ToolCalls, finish);
        using var sent = JsonDocument.Parse(_fake.LastRequestBody!);
        Assert.Equal("get_weather", sent.RootElement.GetProperty("tool_choice").GetProperty("function").GetProperty("name").GetString());
    }

    [Fact]
    public async Task CompleteChat_ToolTurnsInHistory_AreForwardedAsSent()
    {
        ChatMessage[] messages =
        [
            new UserChatMessage("Weather?"),
            new AssistantChatMessage([ChatToolCall.CreateFunctionToolCall("call_1", "get_weather", BinaryData.FromString("""{"city": "Oslo"}"""))]),
            new ToolChatMessage("call_1", "3 C"),
        ];

        var completion = (await Chat().CompleteChatAsync(messages, new ChatCompletionOptions { Tools = { Weather }, MaxOutputTokenCount = 2 })
            .WaitAsync(TestReplica.Timeout)).Value;

        Assert.Equal(ChatFinishReason.Length, completion.FinishReason);
        using var sent = JsonDocument.Parse(_fake.LastRequestBody!);
        var forwarded = sent.RootElement.GetProperty("messages");
        Assert.Equal(JsonValueKind.Null, forwarded[1].GetProperty("content").ValueKind);
        var call = forwarded[1].GetProperty("tool_calls")[0];
        Assert.Equal("call_1", call.GetProperty("id").GetString());
        Assert.Equal("""{"city": "Oslo"}""", call.GetProperty("function").GetProperty("arguments").GetString());
        Assert.Equal("tool", forwarded[2].GetProperty("role").GetString());
        Assert.Equal("call_1", forwarded[2].GetProperty("tool_call_id").GetString());
        Assert.False(sent.RootElement.TryGetProperty("tool_choice", out _));
    }
}
