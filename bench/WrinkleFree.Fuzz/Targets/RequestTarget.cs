using WrinkleFree.Replica.Api;
using WrinkleFree.Replica.Backends;

namespace WrinkleFree.Fuzz.Targets;

/// <summary>
/// The replica's request body handling: the bytes as <c>JsonBody</c> parses them, then both the /v1/completions and the
/// /v1/chat/completions validation over the same document. Clean rejection: a <see cref="BackendException"/> with a 4xx
/// status (what the endpoint answers); a 5xx or any other exception is a crash.
/// </summary>
internal sealed class RequestTarget : FuzzTarget
{
    public override string Name => "request";

    public override IReadOnlyList<byte[]> Dictionary { get; } = Tokens(
        "\"prompt\"", "\"messages\"", "\"role\"", "\"content\"", "\"user\"", "\"system\"", "\"assistant\"", "\"type\"",
        "\"text\"", "\"model\"", "\"max_tokens\"", "\"max_completion_tokens\"", "\"temperature\"", "\"top_p\"", "\"top_k\"",
        "\"min_p\"", "\"n\"", "\"stream\"", "\"stream_options\"", "\"include_usage\"", "\"stop\"", "\"seed\"", "\"logprobs\"",
        "\"top_logprobs\"", "\"echo\"", "\"presence_penalty\"", "\"frequency_penalty\"", "\"repetition_penalty\"",
        "true", "false", "null", "[", "]", "{", "}", ":", ",", "1e308", "-1", "0", "2147483648", "9223372036854775808",
        "1.5", "-0", "\"\\ud800\"", "\"\\u0000\"", "NaN", "Infinity");

    public override bool Execute(ReadOnlySpan<byte> data)
    {
        var accepted = false;
        try
        {
            using var document = JsonBody.Parse(data.ToArray());
            accepted |= Run(() => RequestParser.ParseCompletion(document.RootElement));
            accepted |= Run(() => RequestParser.ParseChat(document.RootElement));
            return accepted;
        }
        catch (BackendException e) when (e.Status is >= 400 and < 500)
        {
            return false;
        }
    }

    private static bool Run(Func<ParsedRequest> parse)
    {
        try
        {
            return parse().Choices.Count > 0;
        }
        catch (BackendException e) when (e.Status is >= 400 and < 500)
        {
            return false;
        }
    }
}
