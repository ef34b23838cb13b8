using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace WrinkleFree.Service.Security;

/// <summary>
/// Makes a streamed generation report its token usage even when the client did not ask for it, so a key's tokens/min
/// limit holds for streams too: the request forwarded to the replica gets <c>stream_options.include_usage: true</c>, and
/// the usage-only chunk that then ends the stream is counted and kept from the client, who sees the stream it asked for.
/// </summary>
/// <remarks>
/// The body is edited as bytes (one insertion, or <c>false</c> overwritten by <c>true </c>), never re-serialized, so
/// whatever else it holds (lone surrogates, duplicate keys, odd numbers) reaches the replica exactly as sent and gets the
/// replica's own answer. A body that does not read as a JSON object with <c>"stream": true</c> is left alone.
/// </remarks>
internal static class StreamUsage
{
    /// <summary>Set on a request whose key has a tokens/min limit: the balancer should make a stream report usage.</summary>
    public const string WantedItem = "wf.stream-usage.wanted";

    /// <summary>Set once the forwarded body asks for usage the client did not: the usage chunk is the endpoint's.</summary>
    public const string HiddenItem = "wf.stream-usage.hidden";

    /// <summary>Whether the request's key counts tokens.</summary>
    public static bool Wanted(HttpContext context) => context.Items.ContainsKey(WantedItem);

    /// <summary>Whether the usage chunk of this request's stream is to be counted and not shown.</summary>
    public static bool Hidden(HttpContext context) => context.Items.ContainsKey(HiddenItem);

    /// <summary>
    /// The body with <c>stream_options.include_usage: true</c> when it is a streamed request that does not already ask
    /// for usage; null when it needs no change (not a stream, usage already asked for, or not a JSON object).
    /// </summary>
    public static byte[]? ForceIncludeUsage(ReadOnlySpan<byte> body)
    {
        var stream = false;
        var rootStart = -1;
        var optionsStart = -1;      // the '{' of stream_options
        var optionsEmpty = false;
        var includeUsage = -1;      // the value token of stream_options.include_usage
        var includeUsageKind = JsonTokenType.None;
        var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = 64 });
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
                return null;
            rootStart = (int)reader.TokenStartIndex;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var name = reader.ValueTextEquals("stream") ? "stream" : reader.ValueTextEquals("stream_options") ? "stream_options" : null;
                if (!reader.Read())
                    return null;
                if (name == "stream")
                {
                    stream = reader.TokenType == JsonTokenType.True;
                }
                else if (name == "stream_options")
                {
                    if (reader.TokenType != JsonTokenType.StartObject)
                        return null; // the replica names the wrong type
                    optionsStart = (int)reader.TokenStartIndex;
                    var depth = reader.CurrentDepth;
                    var members = 0;
                    while (reader.Read() && reader.CurrentDepth > depth)
                    {
                        if (reader.TokenType != JsonTokenType.PropertyName || reader.CurrentDepth != depth + 1)
                            continue;
                        members++;
                        var isInclude = reader.ValueTextEquals("include_usage");
                        if (!reader.Read())
                            return null;
                        if (isInclude)
                        {
                            includeUsage = (int)reader.TokenStartIndex;
                            includeUsageKind = reader.TokenType;
                        }
                        if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
                            reader.Skip();
                    }
                    optionsEmpty = members == 0;
                }
                else if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
                {
                    reader.Skip();
                }
            }
            if (reader.TokenType != JsonTokenType.EndObject || reader.Read())
                return null; // not one complete object
        }
        catch (JsonException)
        {
            return null;
        }

        if (!stream || includeUsageKind == JsonTokenType.True)
            return null;
        if (includeUsageKind == JsonTokenType.False)
        {
            var copy = body.ToArray();
            "true "u8.CopyTo(copy.AsSpan(includeUsage)); // same length: "false" becomes "true "
            return copy;
        }
        if (includeUsageKind != JsonTokenType.None)
            return null; // a wrong type: the replica names it
        return optionsStart >= 0
            ? Insert(body, optionsStart + 1, optionsEmpty ? "\"include_usage\":true" : "\"include_usage\":true,")
            : Insert(body, rootStart + 1, "\"stream_options\":{\"include_usage\":true},"); // "stream" is a member, so one follows
    }

    private static byte[] Insert(ReadOnlySpan<byte> body, int at, string text)
    {
        var insert = Encoding.UTF8.GetBytes(text);
        var result = new byte[body.Length + insert.Length];
        body[..at].CopyTo(result);
        insert.CopyTo(result.AsSpan(at));
        body[at..].CopyTo(result.AsSpan(at + insert.Length));
        return result;
    }

    /// <summary>Whether one server-sent event (without its blank line) is a usage-only chunk: <c>choices</c> empty, <c>usage</c> set.</summary>
    public static bool IsUsageOnlyEvent(ReadOnlySpan<byte> sse)
    {
        var data = sse.TrimStart("\r\n"u8);
        if (!data.StartsWith("data:"u8))
            return false;
        data = data["data:"u8.Length..].Trim(" \r\n"u8);
        var reader = new Utf8JsonReader(data);
        var emptyChoices = false;
        var usage = false;
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
                return false;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isChoices = reader.ValueTextEquals("choices");
                var isUsage = reader.ValueTextEquals("usage");
                if (!reader.Read())
                    return false;
                if (isChoices)
                    emptyChoices = reader.TokenType == JsonTokenType.StartArray && reader.Read() && reader.TokenType == JsonTokenType.EndArray;
                else if (isUsage)
                    usage = reader.TokenType == JsonTokenType.StartObject;
                if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
                    reader.Skip();
            }
        }
        catch (JsonException)
        {
            return false;
        }
        return emptyChoices && usage;
    }
}
