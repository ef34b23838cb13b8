using WrinkleFree.Replica.Backends;
using WrinkleFree.Replica.Backends.Vllm;

namespace WrinkleFree.Replica.Tests.Backends.Vllm;

/// <summary>Chunks as vLLM and llama.cpp's server send them (copied shapes, written by hand).</summary>
public sealed class StreamChunkParserTests
{
    [Fact]
    public void Parse_ChatChunksAndUsage_GivesTextAndExactUsage()
    {
        var parser = new StreamChunkParser(chat: true);
        var events = new List<GenerationEvent>();

        parser.Parse("""{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}""", events);
        parser.Parse("""{"id":"c","choices":[{"index":0,"delta":{"content":"Hel"},"finish_reason":null}],"usage":null}""", events);
        parser.Parse("""{"id":"c","choices":[{"index":0,"delta":{"content":"lo"},"finish_reason":"length","stop_reason":null}]}""", events);
        parser.Parse("""{"id":"c","choices":[],"usage":{"prompt_tokens":9,"total_tokens":20,"completion_tokens":11}}""", events);

        Assert.Equal(["Hel", "lo"], events.Select(e => e.Text));
        var final = parser.Final();
        Assert.Equal("length", final.FinishReason);
        Assert.Equal(9, final.PromptTokens);
        Assert.Equal(11, final.CompletionTokens);
        Assert.Equal(0, final.CachedPromptTokens);
    }

    [Fact]
    public void Parse_UsageWithCachedTokens_CarriesThemToTheFinalEvent()
    {
        var parser = new StreamChunkParser(chat: true);
        var events = new List<GenerationEvent>();

        parser.Parse("""{"id":"c","choices":[],"usage":{"prompt_tokens":90,"completion_tokens":1,"prompt_tokens_details":{"cached_tokens":64}}}""", events);

        Assert.Equal(64, parser.Final().CachedPromptTokens);
    }

    [Fact]
    public void Parse_CompletionLogprobsSpanningTwoTokens_GivesOneEventPerToken()
    {
        var parser = new StreamChunkParser(chat: false);
        var events = new List<GenerationEvent>();

        parser.Parse("""{"choices":[{"index":0,"text":" a b","logprobs":{"text_offset":[0,2],"token_logprobs":[-0.5,-1.5],"tokens":[" a"," b"],"top_logprobs":[{" a":-0.5},{" b":-1.5," c":-2.0}]},"finish_reason":null}]}""", events);

        Assert.Equal([" a", " b"], events.Select(e => e.Text));
        Assert.Equal([-0.5f, -1.5f], events.Select(e => e.Logprob!.Value));
        Assert.Equal([new TopLogprob(" b", -1.5f), new TopLogprob(" c", -2.0f)], events[1].TopLogprobs!);
    }

    [Fact]
    public void Parse_TokenTextsDoNotSpellTheText_KeepsTheTextWithTheFirstLogprob()
    {
        var parser = new StreamChunkParser(chat: true);
        var events = new List<GenerationEvent>();

        // A character split over two byte tokens: vLLM shows each half as "bytes:\xNN".
        parser.Parse("""{"choices":[{"index":0,"delta":{"content":"é"},"logprobs":{"content":[{"token":"bytes:\\xc3","logprob":-0.1,"top_logprobs":[]},{"token":"bytes:\\xa9","logprob":-0.2,"top_logprobs":[]}]},"finish_reason":"stop"}]}""", events);

        var only = Assert.Single(events);
        Assert.Equal("é", only.Text);
        Assert.Equal(-0.1f, only.Logprob);
        Assert.Equal("stop", parser.Final().FinishReason);
    }

    [Fact]
    public void Parse_ErrorChunk_ThrowsWithItsStatusAndMessage()
    {
        var parser = new StreamChunkParser(chat: false);

        var e = Assert.Throws<BackendException>(() => parser.Parse("""{"error":{"object":"error","message":"out of KV cache","type":"InternalServerError","param":null,"code":500}}""", []));

        Assert.Equal(500, e.Status);
        Assert.Equal("out of KV cache", e.Message);
        Assert.Equal("InternalServerError", e.Type);
        Assert.Null(e.Code);
    }

    [Fact]
    public void Final_AbortOrMissingFinishReason_IsStop()
    {
        var parser = new StreamChunkParser(chat: false);
        parser.Parse("""{"choices":[{"index":0,"text":"x","finish_reason":"abort"}]}""", []);

        Assert.Equal("stop", parser.Final().FinishReason);
        Assert.Equal("stop", new StreamChunkParser(chat: false).Final().FinishReason);
    }
}
