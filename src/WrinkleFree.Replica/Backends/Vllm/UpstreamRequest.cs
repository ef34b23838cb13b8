using System.Text.Json;
using WrinkleFree.Replica.Chat;

namespace WrinkleFree.Replica.Backends.Vllm;

/// <summary>Writes the streaming OpenAI request body the upstream gets for one <see cref="GenerationInput"/>.</summary>
internal static class UpstreamRequest
{
    public const string CompletionsPath = "/v1/completions";
    public const string ChatPath = "/v1/chat/completions";

    /// <summary>Chat when <see cref="GenerationInput.Messages"/> is set, else a completion of the text or token prompt.</summary>
    public static bool IsChat(GenerationInput input) => input.Messages is not null;

    /// <summary>
    /// echo + logprobs on a completion scores the prompt, which only the upstream can do: echo is forwarded then (vLLM
    /// returns the prompt's tokens with their logprobs); a plain echo is done by the backend itself.
    /// </summary>
    public static bool ScoresPrompt(GenerationInput input) => input.Echo && input.Sampling.Logprobs && !IsChat(input);

    public static byte[] Build(GenerationInput input, string? model)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(512);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            if (model is not null)
            {
                json.WriteString("model", model);
            }

            var chat = IsChat(input);
            if (chat)
            {
                WriteMessages(json, input.Messages!);
            }
            else if (input.PromptTokens is { } tokens)
            {
                json.WriteStartArray("prompt");
                foreach (var token in tokens)
                {
                    json.WriteNumberValue(token);
                }

                json.WriteEndArray();
            }
            else
            {
                json.WriteString("prompt", input.PromptText ?? "");
            }

            json.WriteBoolean("stream", true);
            json.WriteStartObject("stream_options");
            json.WriteBoolean("include_usage", true);
            json.WriteEndObject();

            // Omitted max_tokens leaves the length to the upstream's default (vLLM: the rest of the context for chat).
            if (input.MaxTokens is { } maxTokens)
            {
                json.WriteNumber("max_tokens", maxTokens);
            }

            WriteSampling(json, input.Sampling, chat);
            if (input.Suffix is { } suffix)
            {
                json.WriteString("suffix", suffix);
            }
            if (ScoresPrompt(input))
            {
                json.WriteBoolean("echo", true);
            }

            WriteConstraint(json, input.Constraint);
            WriteTools(json, input.Tools);
            if (input.Stop.Count > 0)
            {
                json.WriteStartArray("stop");
                foreach (var stop in input.Stop)
                {
                    json.WriteStringValue(stop);
                }

                json.WriteEndArray();
            }

            json.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// The upstream enforces structured output itself: response_format as sent, and a GBNF grammar as vLLM's
    /// guided_grammar extension (its grammar backend reads GBNF-style EBNF).
    /// </summary>
    private static void WriteConstraint(Utf8JsonWriter json, Api.OutputConstraint? constraint)
    {
        if (constraint?.ResponseFormatJson is { } format)
        {
            json.WritePropertyName("response_format");
            json.WriteRawValue(format);
        }

        if (constraint?.GrammarText is { } grammar)
        {
            json.WriteString("guided_grammar", grammar);
        }
    }

    /// <summary>The upstream runs tool calling itself (vLLM: --enable-auto-tool-choice and a tool parser): tools, tool_choice and parallel_tool_calls go as sent.</summary>
    private static void WriteTools(Utf8JsonWriter json, ChatToolOptions? tools)
    {
        if (tools is null)
        {
            return;
        }

        json.WriteStartArray("tools");
        foreach (var tool in tools.Tools)
        {
            tool.Definition.WriteTo(json);
        }

        json.WriteEndArray();
        if (tools.RawChoice is { } choice)
        {
            json.WritePropertyName("tool_choice");
            choice.WriteTo(json);
        }

        if (tools.ParallelToolCalls is { } parallel)
        {
            json.WriteBoolean("parallel_tool_calls", parallel);
        }
    }

    private static void WriteMessages(Utf8JsonWriter json, IReadOnlyList<ChatMessage> messages)
    {
        json.WriteStartArray("messages");
        foreach (var message in messages)
        {
            json.WriteStartObject();
            json.WriteString("role", message.Role);
            if (message.ContentIsNull)
            {
                json.WriteNull("content");
            }
            else
            {
                json.WriteString("content", message.Content);
            }

            if (message.Name is { } name)
            {
                json.WriteString("name", name);
            }

            if (message.ToolCallId is { } toolCallId)
            {
                json.WriteString("tool_call_id", toolCallId);
            }

            if (message.ToolCalls is { } calls)
            {
                json.WriteStartArray("tool_calls");
                foreach (var call in calls)
                {
                    json.WriteStartObject();
                    json.WriteString("id", call.Id);
                    json.WriteString("type", "function");
                    json.WriteStartObject("function");
                    json.WriteString("name", call.Name);
                    json.WriteString("arguments", call.Arguments);
                    json.WriteEndObject();
                    json.WriteEndObject();
                }

                json.WriteEndArray();
            }

            json.WriteEndObject();
        }

        json.WriteEndArray();
    }

    private static void WriteSampling(Utf8JsonWriter json, Inference.Sampling.SamplingOptions sampling, bool chat)
    {
        json.WriteNumber("temperature", sampling.Temperature);
        if (sampling.LogitBias is { Count: > 0 } bias)
        {
            json.WriteStartObject("logit_bias");
            foreach (var (id, value) in bias)
            {
                json.WritePropertyName(id.ToString(System.Globalization.CultureInfo.InvariantCulture));
                json.WriteNumberValue(value);
            }

            json.WriteEndObject();
        }

        json.WriteNumber("top_p", sampling.TopP);

        // Extensions (vLLM and llama.cpp accept them) are sent only when set, so a strict OpenAI upstream still works.
        if (sampling.TopK > 0)
        {
            json.WriteNumber("top_k", sampling.TopK);
        }

        if (sampling.MinP > 0)
        {
            json.WriteNumber("min_p", sampling.MinP);
        }

        if (sampling.RepetitionPenalty != 1)
        {
            json.WriteNumber("repetition_penalty", sampling.RepetitionPenalty);
        }

        if (sampling.PresencePenalty != 0)
        {
            json.WriteNumber("presence_penalty", sampling.PresencePenalty);
        }

        if (sampling.FrequencyPenalty != 0)
        {
            json.WriteNumber("frequency_penalty", sampling.FrequencyPenalty);
        }

        if (sampling.Seed is { } seed)
        {
            // Upstreams take a signed 64-bit seed; the top bit is dropped rather than overflowing their parser.
            json.WriteNumber("seed", (long)(seed & long.MaxValue));
        }

        if (sampling.Logprobs)
        {
            if (chat)
            {
                json.WriteBoolean("logprobs", true);
                json.WriteNumber("top_logprobs", sampling.TopLogprobs);
            }
            else
            {
                // Legacy completions: an integer, the number of alternatives (0 still returns the chosen token's logprob).
                json.WriteNumber("logprobs", sampling.TopLogprobs);
            }
        }
    }
}
