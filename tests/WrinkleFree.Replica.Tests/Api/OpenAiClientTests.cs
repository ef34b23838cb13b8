using System.ClientModel;
using Microsoft.Extensions.AI;
using ChatFinishReason = OpenAI.Chat.ChatFinishReason;
using ChatMessage = OpenAI.Chat.ChatMessage;
using OpenAI;
using OpenAI.Chat;

namespace WrinkleFree.Replica.Tests.Api;

/// <summary>The official OpenAI .NET client and Microsoft.Extensions.AI's IChatClient against a real replica.</summary>
public sealed class OpenAiClientTests : IAsyncLifetime
{
    private ReplicaHost _host = null!;

    public async Task InitializeAsync() => _host = await TestReplica.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private ChatClient Chat() => new(TestReplica.ModelId, new ApiKeyCredential("unused"),
        new OpenAIClientOptions { Endpoint = new Uri(_host.Address, "v1"), NetworkTimeout = TestReplica.Timeout });

    [Fact]
    public async Task CompleteChat_OpenAiClient_ReturnsTextUsageAndLengthFinish()
    {
        var result = await Chat().CompleteChatAsync(
            [new SystemChatMessage("You are terse."), new UserChatMessage("Say hello")],
            new ChatCompletionOptions { MaxOutputTokenCount = 6, Temperature = 0 }).WaitAsync(TestReplica.Timeout);

        var completion = result.Value;
        Assert.Equal(ChatFinishReason.Length, completion.FinishReason);
        Assert.Equal(6, completion.Usage.OutputTokenCount);
        Assert.True(completion.Usage.InputTokenCount > 0);
        Assert.Equal(completion.Usage.InputTokenCount + 6, completion.Usage.TotalTokenCount);
        Assert.Equal(ChatMessageRole.Assistant, completion.Role);
        Assert.NotNull(completion.Content[0].Text);
    }

    [Fact]
    public async Task CompleteChatStreaming_OpenAiClient_ConcatenatesToTheNonStreamedText()
    {
        var options = new ChatCompletionOptions { MaxOutputTokenCount = 8, Temperature = 0 };
        ChatMessage[] messages = [new UserChatMessage("Tell me a story")];
        var whole = (await Chat().CompleteChatAsync(messages, options).WaitAsync(TestReplica.Timeout)).Value;

        var text = new System.Text.StringBuilder();
        ChatFinishReason? finish = null;
        ChatTokenUsage? usage = null;
        using var cts = new CancellationTokenSource(TestReplica.Timeout);
        await foreach (var update in Chat().CompleteChatStreamingAsync(messages, options, cts.Token))
        {
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }

            finish ??= update.FinishReason;
            usage ??= update.Usage;
        }

        Assert.Equal(whole.Content[0].Text, text.ToString());
        Assert.Equal(ChatFinishReason.Length, finish);
        // The client asks for stream_options.include_usage itself.
        Assert.NotNull(usage);
        Assert.Equal(8, usage!.OutputTokenCount);
        Assert.Equal(whole.Usage.InputTokenCount, usage.InputTokenCount);
    }

    [Fact]
    public async Task CompleteChat_Logprobs_ReturnsOneEntryPerTokenWithAlternatives()
    {
        var result = await Chat().CompleteChatAsync([new UserChatMessage("Hi")],
            new ChatCompletionOptions { MaxOutputTokenCount = 4, Temperature = 0, IncludeLogProbabilities = true, TopLogProbabilityCount = 3 })
            .WaitAsync(TestReplica.Timeout);

        var logprobs = result.Value.ContentTokenLogProbabilities;
        Assert.Equal(4, logprobs.Count);
        Assert.All(logprobs, l =>
        {
            Assert.True(l.LogProbability <= 0);
            Assert.Equal(3, l.TopLogProbabilities.Count);
        });
    }

    [Fact]
    public async Task GetResponse_ExtensionsAiChatClient_StreamingAndNotAgree()
    {
        IChatClient client = Chat().AsIChatClient();
        var options = new ChatOptions { MaxOutputTokens = 5, Temperature = 0 };
        List<Microsoft.Extensions.AI.ChatMessage> messages = [new(ChatRole.User, "What is a ternary weight?")];

        var response = await client.GetResponseAsync(messages, options).WaitAsync(TestReplica.Timeout);
        var streamed = new System.Text.StringBuilder();
        using var cts = new CancellationTokenSource(TestReplica.Timeout);
        await foreach (var update in client.GetStreamingResponseAsync(messages, options, cts.Token))
        {
            streamed.Append(update.Text);
        }

        Assert.Equal(response.Text, streamed.ToString());
        Assert.Equal(Microsoft.Extensions.AI.ChatFinishReason.Length, response.FinishReason);
        Assert.Equal(5, response.Usage?.OutputTokenCount);
    }

    [Fact]
    public async Task CompleteChat_UnknownModel_ThrowsWith404()
    {
        var client = new ChatClient("no-such-model", new ApiKeyCredential("unused"), new OpenAIClientOptions { Endpoint = new Uri(_host.Address, "v1") });

        var error = await Assert.ThrowsAsync<ClientResultException>(() => client.CompleteChatAsync([new UserChatMessage("Hi")]).WaitAsync(TestReplica.Timeout));

        Assert.Equal(404, error.Status);
        Assert.Contains("model_not_found", error.Message);
    }
}
