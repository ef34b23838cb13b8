using System.Text;
using WrinkleFree.Service.Security;

namespace WrinkleFree.Service.Tests.Security;

public sealed class StreamUsageTests
{
    [Theory]
    [InlineData("""{"stream": true, "prompt": "x"}""", """{"stream_options":{"include_usage":true},"stream": true, "prompt": "x"}""")]
    [InlineData("""{"stream": true, "stream_options": {}}""", """{"stream": true, "stream_options": {"include_usage":true}}""")]
    [InlineData("""{"stream": true, "stream_options": {"x": {"include_usage": true}}}""", """{"stream": true, "stream_options": {"include_usage":true,"x": {"include_usage": true}}}""")]
    [InlineData("""{"stream_options": {"include_usage": false}, "stream": true}""", """{"stream_options": {"include_usage": true }, "stream": true}""")]
    public void ForceIncludeUsage_StreamNotAskingForUsage_AsksForItAndChangesNothingElse(string body, string expected)
    {
        var result = StreamUsage.ForceIncludeUsage(Encoding.UTF8.GetBytes(body));

        Assert.NotNull(result);
        Assert.Equal(expected, Encoding.UTF8.GetString(result));
    }

    [Theory]
    [InlineData("""{"prompt": "x"}""")]                                            // not a stream
    [InlineData("""{"stream": false}""")]
    [InlineData("""{"stream": true, "stream_options": {"include_usage": true}}""")] // asked already
    [InlineData("""{"stream": true, "stream_options": 5}""")]                     // wrong types: the replica names them
    [InlineData("""{"stream": true, "stream_options": {"include_usage": "yes"}}""")]
    [InlineData("""[{"stream": true}]""")]                                        // not an object
    [InlineData("""{"stream": true""")]                                           // truncated
    [InlineData("""{"stream": true} {}""")]                                       // two documents
    [InlineData("")]
    public void ForceIncludeUsage_NothingToDoOrNotOurs_LeavesTheBodyAlone(string body) =>
        Assert.Null(StreamUsage.ForceIncludeUsage(Encoding.UTF8.GetBytes(body)));

    [Fact]
    public void ForceIncludeUsage_KeepsEveryOtherByteAsSent()
    {
        // A lone surrogate escape and a duplicate key reach the replica exactly as sent (it answers them itself).
        var body = Encoding.UTF8.GetBytes("""{"stream": true, "prompt": "\ud800", "prompt": 1e400}""");

        var result = StreamUsage.ForceIncludeUsage(body);

        Assert.NotNull(result);
        Assert.Equal(body.Length + "\"stream_options\":{\"include_usage\":true},".Length, result.Length);
        Assert.EndsWith("""{"stream": true, "prompt": "\ud800", "prompt": 1e400}"""[1..], Encoding.UTF8.GetString(result), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("data: {\"id\":\"x\",\"choices\":[],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":2}}\n\n", true)]
    [InlineData("data:{\"choices\":[],\"usage\":{}}\n\n", true)]
    [InlineData("data: {\"choices\":[{\"delta\":{}}],\"usage\":{\"prompt_tokens\":1}}\n\n", false)]
    [InlineData("data: {\"choices\":[]}\n\n", false)]
    [InlineData("data: [DONE]\n\n", false)]
    [InlineData(": comment\n\n", false)]
    [InlineData("data: {\"choices\":[],\"usage\":\n\n", false)]
    public void IsUsageOnlyEvent_OnlyTheUsageChunk(string sse, bool expected) =>
        Assert.Equal(expected, StreamUsage.IsUsageOnlyEvent(Encoding.UTF8.GetBytes(sse)));

    [Fact]
    public async Task UsageTap_Hiding_DropsOnlyTheUsageChunkAcrossSplitWritesAndStillCountsIt()
    {
        var sink = new MemoryStream();
        var tap = new UsageTap(sink, () => true);
        var stream = "data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\n"
            + "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":5,\"total_tokens\":12}}\n\n"
            + "data: [DONE]\n\n";
        var bytes = Encoding.UTF8.GetBytes(stream);
        for (var i = 0; i < bytes.Length; i += 5)
            await tap.WriteAsync(bytes.AsMemory(i, Math.Min(5, bytes.Length - i)));
        await tap.CompleteAsync(CancellationToken.None);

        Assert.Equal("data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\ndata: [DONE]\n\n", Encoding.UTF8.GetString(sink.ToArray()));
        Assert.Equal(12, tap.Tokens());
    }

    [Fact]
    public async Task UsageTap_Hiding_ABodyThatIsNoEventStreamPassesWhole()
    {
        var sink = new MemoryStream();
        var tap = new UsageTap(sink, () => true);
        const string error = "{\"error\":{\"message\":\"bad\",\"type\":\"invalid_request_error\"}}";
        await tap.WriteAsync(Encoding.UTF8.GetBytes(error));
        await tap.CompleteAsync(CancellationToken.None);

        Assert.Equal(error, Encoding.UTF8.GetString(sink.ToArray()));
    }
}
