using System.Text.Json;
using WrinkleFree.Replica.Api;
using WrinkleFree.Replica.Backends;
using WrinkleFree.Replica.Chat;

namespace WrinkleFree.Replica.Tests.Api;

/// <summary>
/// A backend's text events read as content plus tool calls, and the chat response written from them: the shapes a
/// model that calls a tool after some text (auto) produces, which the random test model never does by itself.
/// </summary>
public sealed class ToolCallEventsTests
{
    private static readonly ChatToolOptions Options = new()
    {
        Tools = [new ChatTool("get_time", null, null, JsonDocument.Parse("""{"type":"function","function":{"name":"get_time"}}""").RootElement.Clone())],
    };

    private static async IAsyncEnumerable<GenerationEvent> Events(params (string Text, string? Finish)[] pieces)
    {
        var n = 0;
        foreach (var (text, finish) in pieces)
        {
            await Task.Yield();
            n++;
            yield return new GenerationEvent { Text = text, TokenId = n, FinishReason = finish, PromptTokens = 5, CompletionTokens = n };
        }
    }

    private static async Task<List<GenerationEvent>> ReadAsync(params (string Text, string? Finish)[] pieces)
    {
        using var cts = new CancellationTokenSource(TestReplica.Timeout);
        var list = new List<GenerationEvent>();
        await foreach (var e in ToolCallEvents.ReadAsync(Events(pieces), () => new ToolCallStream(ToolCallSyntax.Hermes, Options, () => "call_x"), cts.Token))
        {
            list.Add(e);
        }

        return list;
    }

    [Fact]
    public async Task ReadAsync_TextThenCall_ContentFirstThenCallDeltasAndToolCallsFinish()
    {
        var events = await ReadAsync(("Sure", null), (".\n<tool", null), ("_call>\n{\"name\": \"get_time\", ", null), ("\"arguments\": {}}\n</tool_call>", null), ("", "stop"));

        Assert.Equal(["Sure", ".", "", "", ""], events.Select(e => e.Text));
        Assert.Equal([1, 2, 3, 4, 5], events.Select(e => e.TokenId));
        var calls = Assert.Single(events, e => e.ToolCalls is not null).ToolCalls!;
        Assert.Equal(new ToolCallDelta(0, "call_x", "get_time", ""), calls[0]);
        Assert.Equal(new ToolCallDelta(0, null, null, "{}"), calls[1]);
        Assert.Equal("tool_calls", events[^1].FinishReason);
    }

    [Fact]
    public async Task ReadAsync_CutByLength_KeepsTheUnfinishedBlockAsContentAndLengthFinish()
    {
        var events = await ReadAsync(("<tool_call>\n{\"name\": \"get_", "length"));

        var last = Assert.Single(events);
        Assert.Equal("<tool_call>\n{\"name\": \"get_", last.Text);
        Assert.Null(last.ToolCalls);
        Assert.Equal("length", last.FinishReason);
    }

    [Fact]
    public async Task WriteResponse_TextAndCall_WritesContentAndToolCalls()
    {
        var result = new ChoiceResult();
        foreach (var e in await ReadAsync(("Checking.", null), ("<tool_call>{\"name\": \"get_time\", \"arguments\": {\"tz\": \"UTC\"}}</tool_call>", "stop")))
        {
            result.Add(e, logprobs: false);
        }

        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            new ResponseJson(chat: true, "chatcmpl-1", 0, "m").WriteResponse(writer, [result], logprobs: false, new ResponseJson.Usage(5, 2));
        }

        using var json = JsonDocument.Parse(buffer.WrittenMemory);
        var choice = json.RootElement.GetProperty("choices")[0];
        Assert.Equal("tool_calls", choice.GetProperty("finish_reason").GetString());
        var message = choice.GetProperty("message");
        Assert.Equal("Checking.", message.GetProperty("content").GetString());
        var call = message.GetProperty("tool_calls")[0];
        Assert.Equal("call_x", call.GetProperty("id").GetString());
        Assert.Equal("function", call.GetProperty("type").GetString());
        Assert.Equal("get_time", call.GetProperty("function").GetProperty("name").GetString());
        Assert.Equal("""{"tz": "UTC"}""", call.GetProperty("function").GetProperty("arguments").GetString());
    }
}
