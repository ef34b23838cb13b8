using System.Text.Json;

namespace WrinkleFree.Service.LoadBalancing;

/// <summary>
/// Hashes the leading text of an OpenAI request's prompt: <c>prompt</c> for completions, the messages' roles and contents
/// in order for chat. Requests whose prompts start alike get the same key, which is what a replica's prefix cache needs.
/// </summary>
internal static class PromptPrefixKey
{
    private const ulong Seed = 0xCBF29CE484222325UL;

    /// <summary>
    /// The key, or null when the body is not a JSON object with a prompt or messages (then least-requests applies). The
    /// reader stops once the prompt's first <paramref name="prefixBytes"/> bytes are hashed; what precedes the prompt is
    /// skipped without being decoded, so a large body costs one scan at most.
    /// </summary>
    public static ulong? Compute(ReadOnlySpan<byte> body, int prefixBytes)
    {
        var reader = new Utf8JsonReader(body, isFinalBlock: true, default);
        var hash = Seed;
        var taken = 0;
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isPrompt = reader.ValueTextEquals("prompt"u8);
                var isMessages = reader.ValueTextEquals("messages"u8);
                if (!reader.Read())
                {
                    return null;
                }

                if (isPrompt || isMessages)
                {
                    Take(ref reader, ref hash, ref taken, prefixBytes, inMessages: isMessages);
                    return taken > 0 ? Finish(hash) : null;
                }

                if (!reader.TrySkip())
                {
                    return null;
                }
            }
        }
        catch (JsonException)
        {
            // A body the replica will reject anyway: route it like any keyless request.
        }

        return null;
    }

    /// <summary>Hashes string (and number) values of the value the reader is on, in document order, up to the byte budget.</summary>
    private static void Take(ref Utf8JsonReader reader, ref ulong hash, ref int taken, int budget, bool inMessages)
    {
        if (reader.TokenType is not (JsonTokenType.StartArray or JsonTokenType.StartObject))
        {
            Add(ref reader, ref hash, ref taken, budget);
            return;
        }

        var depth = reader.CurrentDepth;
        var wanted = !inMessages;
        while (taken < budget && reader.Read())
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.EndArray or JsonTokenType.EndObject when reader.CurrentDepth == depth:
                    return;
                case JsonTokenType.PropertyName:
                    // In chat messages only the text that reaches the model counts (role, content, text parts, names).
                    wanted = !inMessages || reader.ValueTextEquals("role"u8) || reader.ValueTextEquals("content"u8)
                        || reader.ValueTextEquals("text"u8) || reader.ValueTextEquals("name"u8);
                    break;
                case JsonTokenType.String or JsonTokenType.Number when wanted:
                    Add(ref reader, ref hash, ref taken, budget);
                    break;
            }
        }
    }

    private static void Add(ref Utf8JsonReader reader, ref ulong hash, ref int taken, int budget)
    {
        if (reader.TokenType is not (JsonTokenType.String or JsonTokenType.Number))
        {
            return;
        }

        var value = reader.ValueSpan;
        var n = Math.Min(value.Length, budget - taken);
        hash = Mix(hash, value[..n]);
        // A separator, so ["ab","c"] and ["a","bc"] differ.
        hash = (hash ^ 0xFF) * 0x100000001B3UL;
        taken += Math.Max(n, 1);
    }

    /// <summary>FNV-1a over <paramref name="bytes"/>, continuing from <paramref name="hash"/>.</summary>
    public static ulong Mix(ulong hash, ReadOnlySpan<byte> bytes)
    {
        foreach (var b in bytes)
        {
            hash = (hash ^ b) * 0x100000001B3UL;
        }

        return hash;
    }

    /// <summary>SplitMix64's finalizer: FNV alone leaves the high bits, which place a key on the ring, poorly mixed.</summary>
    public static ulong Finish(ulong h)
    {
        h ^= h >> 30;
        h *= 0xBF58476D1CE4E5B9UL;
        h ^= h >> 27;
        h *= 0x94D049BB133111EBUL;
        return h ^ (h >> 31);
    }

    /// <summary>The hash of a string's UTF-16 code units (for ring points of replica ids).</summary>
    public static ulong HashText(string text)
    {
        var h = Seed;
        foreach (var c in text)
        {
            h = (h ^ c) * 0x100000001B3UL;
        }

        return Finish(h);
    }
}
