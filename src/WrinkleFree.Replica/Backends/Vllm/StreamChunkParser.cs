using System.Text.Json;
using WrinkleFree.Inference.Sampling;

namespace WrinkleFree.Replica.Backends.Vllm;

/// <summary>
/// Reads the JSON of each streamed completions or chat chunk into text events, remembering the finish reason and the
/// usage chunk so that <see cref="Final"/> can close the choice with exact counts.
/// </summary>
internal sealed class StreamChunkParser(bool chat)
{
    private string? _finishReason;
    private int? _promptTokens;
    private int? _completionTokens;
    private int _cachedTokens;
    private int _tokensSeen;

    public bool Finished => _finishReason is not null;

    public bool HasUsage => _completionTokens is not null;

    /// <summary>Adds the events of one chunk to <paramref name="events"/>; throws the upstream's error when the chunk is one.</summary>
    public void Parse(string data, List<GenerationEvent> events)
    {
        using var json = JsonDocument.Parse(data);
        var root = json.RootElement;
        if (root.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object)
        {
            throw UpstreamErrors.FromStreamError(error);
        }

        if (root.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object)
        {
            _promptTokens = Int(usage, "prompt_tokens") ?? _promptTokens;
            _completionTokens = Int(usage, "completion_tokens") ?? _completionTokens;
            // vLLM with prefix caching reports what it reused, as OpenAI does.
            if (usage.TryGetProperty("prompt_tokens_details", out var details) && details.ValueKind == JsonValueKind.Object)
            {
                _cachedTokens = Int(details, "cached_tokens") ?? _cachedTokens;
            }
        }

        if (!root.TryGetProperty("choices", out var choices) || choices.ValueKind != JsonValueKind.Array)
        {
            return;
        }

        // One choice per request (the API layer fans out n), so every entry here is choice 0.
        foreach (var choice in choices.EnumerateArray())
        {
            var text = chat
                ? choice.TryGetProperty("delta", out var delta) ? String(delta, "content") : null
                : String(choice, "text");
            var before = events.Count;
            if (choice.TryGetProperty("logprobs", out var logprobs) && logprobs.ValueKind == JsonValueKind.Object)
            {
                AddWithLogprobs(text ?? "", logprobs, events);
            }
            else if (!string.IsNullOrEmpty(text))
            {
                events.Add(new GenerationEvent { Text = text });
            }

            if (chat && choice.TryGetProperty("delta", out var d) && d.TryGetProperty("tool_calls", out var calls) && calls.ValueKind == JsonValueKind.Array)
            {
                events.Add(new GenerationEvent { Text = "", ToolCalls = ToolCalls(calls) });
            }

            _tokensSeen += events.Count - before;
            if (String(choice, "finish_reason") is { } finish)
            {
                // vLLM may say "abort"; the OpenAI API knows only stop, length and tool_calls (and the client stopped the rest).
                _finishReason = finish is "length" or "tool_calls" ? finish : "stop";
            }
        }
    }

    /// <summary>The closing event: finish reason and usage (counted from the stream when the upstream sent none).</summary>
    public GenerationEvent Final() => new()
    {
        Text = "",
        FinishReason = _finishReason ?? "stop",
        PromptTokens = _promptTokens ?? 0,
        CompletionTokens = _completionTokens ?? _tokensSeen,
        CachedPromptTokens = _cachedTokens,
    };

    private static void AddWithLogprobs(string text, JsonElement logprobs, List<GenerationEvent> events)
    {
        var tokens = new List<GenerationEvent>();
        if (logprobs.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.Array)
        {
            // Chat shape: [{token, logprob, top_logprobs: [{token, logprob}]}].
            foreach (var entry in content.EnumerateArray())
            {
                List<TopLogprob>? top = null;
                if (entry.TryGetProperty("top_logprobs", out var alternatives) && alternatives.ValueKind == JsonValueKind.Array)
                {
                    top = [];
                    foreach (var alternative in alternatives.EnumerateArray())
                    {
                        top.Add(new TopLogprob(String(alternative, "token") ?? "", Float(alternative, "logprob") ?? float.NegativeInfinity));
                    }
                }

                var token = String(entry, "token") ?? "";
                tokens.Add(new GenerationEvent { Text = token, TokenText = token, Logprob = Float(entry, "logprob"), TopLogprobs = top });
            }
        }
        else if (logprobs.TryGetProperty("tokens", out var tokenTexts) && tokenTexts.ValueKind == JsonValueKind.Array)
        {
            // Completions shape: parallel arrays tokens, token_logprobs and top_logprobs ([{token: logprob}]).
            logprobs.TryGetProperty("token_logprobs", out var values);
            logprobs.TryGetProperty("top_logprobs", out var tops);
            var i = 0;
            foreach (var tokenText in tokenTexts.EnumerateArray())
            {
                var token = tokenText.GetString() ?? "";
                float? logprob = values.ValueKind == JsonValueKind.Array && i < values.GetArrayLength() && values[i].ValueKind == JsonValueKind.Number
                    ? values[i].GetSingle()
                    : null;
                List<TopLogprob>? top = null;
                if (tops.ValueKind == JsonValueKind.Array && i < tops.GetArrayLength() && tops[i].ValueKind == JsonValueKind.Object)
                {
                    top = [];
                    foreach (var alternative in tops[i].EnumerateObject())
                    {
                        top.Add(new TopLogprob(alternative.Name, alternative.Value.ValueKind == JsonValueKind.Number ? alternative.Value.GetSingle() : float.NegativeInfinity));
                    }
                }

                tokens.Add(new GenerationEvent { Text = token, TokenText = token, Logprob = logprob, TopLogprobs = top });
                i++;
            }
        }

        // One event per token keeps logprobs aligned; when the token texts do not spell the chunk's text (byte-split
        // characters), the chunk's text wins and carries the first token's logprob.
        if (tokens.Count > 0 && string.Concat(tokens.Select(t => t.Text)) == text)
        {
            events.AddRange(tokens);
        }
        else if (tokens.Count > 0)
        {
            events.Add(tokens[0] with { Text = text });
        }
        else if (text.Length > 0)
        {
            events.Add(new GenerationEvent { Text = text });
        }
    }

    /// <summary>The upstream's delta.tool_calls entries, passed on as they came (index, then id and name on a call's first piece).</summary>
    private static List<Chat.ToolCallDelta> ToolCalls(JsonElement calls)
    {
        var list = new List<Chat.ToolCallDelta>(calls.GetArrayLength());
        foreach (var call in calls.EnumerateArray())
        {
            if (call.ValueKind != JsonValueKind.Object || Int(call, "index") is not { } index || index < 0)
            {
                throw new BackendException(502, "server_error", "the upstream streamed a tool_calls entry without an index", null, "upstream_protocol_error");
            }

            var function = call.TryGetProperty("function", out var f) && f.ValueKind == JsonValueKind.Object ? f : default;
            list.Add(new Chat.ToolCallDelta(index, String(call, "id"),
                function.ValueKind == JsonValueKind.Object ? String(function, "name") : null,
                function.ValueKind == JsonValueKind.Object ? String(function, "arguments") : null));
        }

        return list;
    }

    private static string? String(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static int? Int(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var n) ? n : null;

    private static float? Float(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetSingle() : null;
}
