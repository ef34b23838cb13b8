using System.Text;
using System.Text.Json;
using WrinkleFree.Replica.Backends;

namespace WrinkleFree.Replica.Api;

/// <summary>
/// Writes completion and chat responses and stream chunks in the OpenAI shapes with a <see cref="Utf8JsonWriter"/>
/// (no reflection, nothing per token beyond the JSON itself).
/// </summary>
internal sealed class ResponseJson(bool chat, string id, long created, string model)
{
    public bool Chat { get; } = chat;

    private string Object(bool chunk) => Chat ? chunk ? "chat.completion.chunk" : "chat.completion" : "text_completion";

    private void Header(Utf8JsonWriter w, bool chunk)
    {
        w.WriteString("id", id);
        w.WriteString("object", Object(chunk));
        w.WriteNumber("created", created);
        w.WriteString("model", model);
    }

    /// <summary>The whole non-streamed response.</summary>
    public void WriteResponse(Utf8JsonWriter w, IReadOnlyList<ChoiceResult> choices, bool logprobs, Usage usage)
    {
        w.WriteStartObject();
        Header(w, chunk: false);
        w.WriteStartArray("choices");
        for (var i = 0; i < choices.Count; i++)
        {
            var c = choices[i];
            w.WriteStartObject();
            w.WriteNumber("index", i);
            if (Chat)
            {
                w.WriteStartObject("message");
                w.WriteString("role", "assistant");
                if (c.ToolCalls.Count > 0 && c.Text.Length == 0)
                {
                    // OpenAI's shape for a message that only calls tools.
                    w.WriteNull("content");
                }
                else
                {
                    w.WriteString("content", c.Text.ToString());
                }

                if (c.ToolCalls.Count > 0)
                {
                    w.WriteStartArray("tool_calls");
                    foreach (var (callId, name, arguments) in c.ToolCalls)
                    {
                        w.WriteStartObject();
                        w.WriteString("id", callId);
                        w.WriteString("type", "function");
                        w.WriteStartObject("function");
                        w.WriteString("name", name);
                        w.WriteString("arguments", arguments.ToString());
                        w.WriteEndObject();
                        w.WriteEndObject();
                    }

                    w.WriteEndArray();
                }

                w.WriteEndObject();
            }
            else
            {
                w.WriteString("text", c.Text.ToString());
            }

            w.WritePropertyName("logprobs");
            if (logprobs)
            {
                WriteLogprobs(w, c.Tokens);
            }
            else
            {
                w.WriteNullValue();
            }

            w.WriteString("finish_reason", c.FinishReason ?? "stop");
            w.WriteEndObject();
        }

        w.WriteEndArray();
        WriteUsage(w, usage);
        w.WriteEndObject();
    }

    /// <summary>One stream chunk carrying one event of choice <paramref name="index"/>.</summary>
    public void WriteChunk(Utf8JsonWriter w, int index, GenerationEvent e, bool first, bool logprobs, int textOffset)
    {
        w.WriteStartObject();
        Header(w, chunk: true);
        w.WriteStartArray("choices");
        w.WriteStartObject();
        w.WriteNumber("index", index);
        if (Chat)
        {
            w.WriteStartObject("delta");
            if (first)
            {
                w.WriteString("role", "assistant");
            }

            if (e.Text.Length > 0 || (first && e.ToolCalls is null))
            {
                w.WriteString("content", e.Text);
            }

            if (e.ToolCalls is { } calls)
            {
                WriteToolCallDeltas(w, calls);
            }

            w.WriteEndObject();
        }
        else
        {
            w.WriteString("text", e.Text);
        }

        w.WritePropertyName("logprobs");
        if (logprobs && e.HasLogprobEntry)
        {
            WriteLogprobs(w, [(e, textOffset)]);
        }
        else
        {
            w.WriteNullValue();
        }

        if (e.FinishReason is { } finish)
        {
            w.WriteString("finish_reason", finish);
        }
        else
        {
            w.WriteNull("finish_reason");
        }

        w.WriteEndObject();
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void WriteToolCallDeltas(Utf8JsonWriter w, IReadOnlyList<Chat.ToolCallDelta> calls)
    {
        w.WriteStartArray("tool_calls");
        foreach (var call in calls)
        {
            w.WriteStartObject();
            w.WriteNumber("index", call.Index);
            if (call.Id is { } callId)
            {
                w.WriteString("id", callId);
                w.WriteString("type", "function");
            }

            w.WriteStartObject("function");
            if (call.Name is { } name)
            {
                w.WriteString("name", name);
            }

            if (call.Arguments is { } arguments)
            {
                w.WriteString("arguments", arguments);
            }

            w.WriteEndObject();
            w.WriteEndObject();
        }

        w.WriteEndArray();
    }

    /// <summary>The final usage chunk of a stream with stream_options.include_usage (no choices).</summary>
    public void WriteUsageChunk(Utf8JsonWriter w, Usage usage)
    {
        w.WriteStartObject();
        Header(w, chunk: true);
        w.WriteStartArray("choices");
        w.WriteEndArray();
        WriteUsage(w, usage);
        w.WriteEndObject();
    }

    private void WriteLogprobs(Utf8JsonWriter w, IReadOnlyList<(GenerationEvent Event, int Offset)> tokens)
    {
        w.WriteStartObject();
        if (Chat)
        {
            w.WriteStartArray("content");
            foreach (var (e, _) in tokens)
            {
                w.WriteStartObject();
                WriteToken(w, e.TokenText ?? e.Text, e.Logprob ?? 0);
                w.WriteStartArray("top_logprobs");
                foreach (var t in e.TopLogprobs ?? [])
                {
                    w.WriteStartObject();
                    WriteToken(w, t.Token, t.Logprob);
                    w.WriteEndObject();
                }

                w.WriteEndArray();
                w.WriteEndObject();
            }

            w.WriteEndArray();
        }
        else
        {
            w.WriteStartArray("tokens");
            foreach (var (e, _) in tokens)
            {
                w.WriteStringValue(e.TokenText ?? e.Text);
            }

            w.WriteEndArray();
            w.WriteStartArray("token_logprobs");
            foreach (var (e, _) in tokens)
            {
                // An echoed prompt's first token has no logprob (nothing precedes it): null, as OpenAI writes it.
                if (e.Logprob is { } logprob)
                {
                    w.WriteNumberValue(Finite(logprob));
                }
                else
                {
                    w.WriteNullValue();
                }
            }

            w.WriteEndArray();
            w.WriteStartArray("top_logprobs");
            foreach (var (e, _) in tokens)
            {
                if (e.Logprob is null)
                {
                    w.WriteNullValue();
                    continue;
                }

                w.WriteStartObject();
                foreach (var t in e.TopLogprobs ?? [])
                {
                    w.WriteNumber(t.Token, Finite(t.Logprob));
                }

                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteStartArray("text_offset");
            foreach (var (_, offset) in tokens)
            {
                w.WriteNumberValue(offset);
            }

            w.WriteEndArray();
        }

        w.WriteEndObject();
    }

    private static void WriteToken(Utf8JsonWriter w, string token, float logprob)
    {
        w.WriteString("token", token);
        w.WriteNumber("logprob", Finite(logprob));
        w.WriteStartArray("bytes");
        foreach (var b in Encoding.UTF8.GetBytes(token))
        {
            w.WriteNumberValue(b);
        }

        w.WriteEndArray();
    }

    // JSON has no -Infinity; an alternative the filters removed entirely is reported as OpenAI does, with -9999.
    private static float Finite(float logprob) => float.IsFinite(logprob) ? logprob : -9999f;

    private static void WriteUsage(Utf8JsonWriter w, Usage usage)
    {
        w.WriteStartObject("usage");
        w.WriteNumber("prompt_tokens", usage.PromptTokens);
        w.WriteNumber("completion_tokens", usage.CompletionTokens);
        w.WriteNumber("total_tokens", usage.PromptTokens + usage.CompletionTokens);
        // OpenAI's field for prompt caching: clients (and cost dashboards) read how much of the prompt was reused.
        w.WriteStartObject("prompt_tokens_details");
        w.WriteNumber("cached_tokens", usage.CachedPromptTokens);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    /// <summary>Exact token counts of one response.</summary>
    /// <summary>Token counts; <paramref name="CachedPromptTokens"/> of the prompt tokens came from the prefix cache.</summary>
    public readonly record struct Usage(int PromptTokens, int CompletionTokens, int CachedPromptTokens = 0);
}
