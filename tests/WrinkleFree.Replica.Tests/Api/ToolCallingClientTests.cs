using System.ClientModel;
using System.Text.Json;
using Microsoft.Extensions.AI;
using OpenAI;
using OpenAI.Chat;
using ChatFinishReason = OpenAI.Chat.ChatFinishReason;
using ChatMessage = OpenAI.Chat.ChatMessage;

namespace WrinkleFree.Replica.Tests.Api;

/// <summary>
/// Tool calling end to end through the official OpenAI .NET client and Microsoft.Extensions.AI's function-invocation
/// loop, against a real replica (tiny random model; tool_choice required makes the call happen, constrained).
/// </summary>
public sealed class ToolCallingClientTests : IAsyncLifetime
{
    private static readonly ChatTool Weather = ChatTool.CreateFunctionTool("get_weather", "Weather in a city",
        BinaryData.FromString("""{"type": "object", "properties": {"city": {"enum": ["Paris", "Oslo"]}}, "required": ["city"], "additionalProperties": false}"""));

    private ReplicaHost _host = null!;

    public async Task InitializeAsync() => _host = await ToolTestModel.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private ChatClient Chat() => new(TestReplica.ModelId, new ApiKeyCredential("unused"),
        new OpenAIClientOptions { Endpoint = new Uri(_host.Address, "v1"), NetworkTimeout = TestReplica.Timeout });

    private static ChatCompletionOptions Required() => new()
    {
        Tools = { Weather },
        ToolChoice = ChatToolChoice.CreateRequiredChoice(),
        AllowParallelToolCalls = false,
        MaxOutputTokenCount = 120,
        Temperature = 0,
    };

    [Fact]
    public async Task CompleteChat_RequiredToolThenToolResult_RoundTrips()
    {
        List<ChatMessage> messages = [new UserChatMessage("Weather in Paris?")];

        var first = (await Chat().CompleteChatAsync(messages, Required()).WaitAsync(TestReplica.Timeout)).Value;

        Assert.Equal(ChatFinishReason.ToolCalls, first.FinishReason);
        var call = Assert.Single(first.ToolCalls);
        Assert.Equal("get_weather", call.FunctionName);
        Assert.StartsWith("call_", call.Id, StringComparison.Ordinal);
        using (var arguments = JsonDocument.Parse(call.FunctionArguments.ToString()))
        {
            Assert.Contains(arguments.RootElement.GetProperty("city").GetString(), new[] { "Paris", "Oslo" });
        }

        // The client's own assistant message (content null, tool_calls) and the tool result go back to the replica.
        messages.Add(new AssistantChatMessage(first));
        messages.Add(new ToolChatMessage(call.Id, "21 C and sunny"));
        var second = (await Chat().CompleteChatAsync(messages, new ChatCompletionOptions { Tools = { Weather }, MaxOutputTokenCount = 5, Temperature = 0 })
            .WaitAsync(TestReplica.Timeout)).Value;

        Assert.Equal(ChatFinishReason.Length, second.FinishReason);
        Assert.Empty(second.ToolCalls);
        Assert.True(second.Usage.InputTokenCount > first.Usage.InputTokenCount);
    }

    [Fact]
    public async Task CompleteChatStreaming_RequiredTool_AssemblesTheSameCallAsNonStreamed()
    {
        ChatMessage[] messages = [new UserChatMessage("Weather in Oslo?")];
        var whole = (await Chat().CompleteChatAsync(messages, Required()).WaitAsync(TestReplica.Timeout)).Value;

        string? id = null, name = null;
        var arguments = new System.Text.StringBuilder();
        ChatFinishReason? finish = null;
        using var cts = new CancellationTokenSource(TestReplica.Timeout);
        await foreach (var update in Chat().CompleteChatStreamingAsync(messages, Required(), cts.Token))
        {
            foreach (var part in update.ToolCallUpdates)
            {
                Assert.Equal(0, part.Index);
                id ??= part.ToolCallId;
                name ??= part.FunctionName;
                arguments.Append(part.FunctionArgumentsUpdate?.ToString());
            }

            finish ??= update.FinishReason;
        }

        Assert.Equal(ChatFinishReason.ToolCalls, finish);
        Assert.StartsWith("call_", id, StringComparison.Ordinal);
        Assert.Equal(whole.ToolCalls[0].FunctionName, name);
        Assert.Equal(whole.ToolCalls[0].FunctionArguments.ToString(), arguments.ToString());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task GetResponse_FunctionInvokingChatClient_CallsTheDotNetFunctionAndAnswers(bool streaming)
    {
        var invoked = new List<bool>();
        var function = AIFunctionFactory.Create(
            (bool metric) =>
            {
                invoked.Add(metric);
                return metric ? "21 C" : "70 F";
            },
            "get_weather",
            "Weather in a city");
        using var client = new ChatClientBuilder(Chat().AsIChatClient())
            .UseFunctionInvocation(configure: f => f.MaximumIterationsPerRequest = 3)
            .Build();
        var options = new ChatOptions
        {
            Tools = [function],
            ToolMode = ChatToolMode.RequireAny,
            AllowMultipleToolCalls = false,
            // Enough for the whole call block in the tiny vocabulary; a bool argument keeps the forced call short.
            MaxOutputTokens = 120,
            Temperature = 0,
        };
        List<Microsoft.Extensions.AI.ChatMessage> messages = [new(ChatRole.User, "Weather in Paris?")];

        ChatResponse response;
        if (streaming)
        {
            using var cts = new CancellationTokenSource(TestReplica.Timeout * 2);
            response = await client.GetStreamingResponseAsync(messages, options, cts.Token).ToChatResponseAsync(cts.Token);
        }
        else
        {
            response = await client.GetResponseAsync(messages, options).WaitAsync(TestReplica.Timeout * 2);
        }

        // The loop called the .NET function once with the model's arguments, sent its result back as a tool message,
        // and the replica answered that in text (the random model rambles to max_tokens).
        Assert.Single(invoked);
        var call = Assert.Single(response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>());
        Assert.Equal("get_weather", call.Name);
        Assert.StartsWith("call_", call.CallId, StringComparison.Ordinal);
        var result = Assert.Single(response.Messages.SelectMany(m => m.Contents).OfType<FunctionResultContent>());
        Assert.Equal(call.CallId, result.CallId);
        Assert.Equal(ChatRole.Assistant, response.Messages[^1].Role);
        Assert.Equal(Microsoft.Extensions.AI.ChatFinishReason.Length, response.FinishReason);
    }
}
