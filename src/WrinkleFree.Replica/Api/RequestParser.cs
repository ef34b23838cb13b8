using System.Text.Json;
using WrinkleFree.Inference.Sampling;
using WrinkleFree.Replica.Backends;
using WrinkleFree.Replica.Chat;

namespace WrinkleFree.Replica.Api;

/// <summary>
/// Validates completions and chat request bodies field by field, so every bad value is a 400 naming its param. A field
/// this server does not act on is a 400 naming it too, never ignored: a client relying on it would get an answer that
/// is not what it asked for. Null counts as absent, as the OpenAI API treats it.
/// </summary>
internal static class RequestParser
{
    /// <summary>Most choices one request may ask for (prompts times n); each is a sequence in the engine.</summary>
    public const int MaxChoices = 128;

    private const int MaxStops = 16;

    /// <summary>OpenAI's default max_tokens for /v1/completions; chat generates until the context limit.</summary>
    private const int CompletionsDefaultMaxTokens = 16;

    private static readonly HashSet<string> Roles = ["system", "user", "assistant", "tool", "developer", "function"];

    public static ParsedRequest ParseCompletion(JsonElement root)
    {
        RejectUnread(root, ParamNames.Completions);
        var prompts = Prompts(root);
        var logprobs = OptionalInt(root, "logprobs", 0, SamplingOptions.MaxTopLogprobs);
        var sampling = Sampling(root, logprobs is not null, logprobs ?? 0);
        var maxTokens = OptionalInt(root, "max_tokens", 0, int.MaxValue) ?? CompletionsDefaultMaxTokens;
        var echo = OptionalBool(root, "echo") ?? false;
        var suffix = OptionalString(root, "suffix");
        var bestOf = OptionalInt(root, "best_of", 1, MaxChoices);
        if (bestOf > 1)
        {
            // The best candidate is the one with the highest cumulative logprob: every candidate computes its logprobs,
            // whether or not the client asked to see them.
            sampling = sampling with { Logprobs = true };
        }

        var constraint = ResponseFormatParser.Parse(root, chat: false);
        return Build(root, prompts.Select(p => new GenerationInput
        {
            PromptText = p.Text,
            PromptTokens = p.Tokens,
            Sampling = sampling,
            MaxTokens = maxTokens,
            Stop = Stops(root),
            Echo = echo,
            Suffix = suffix,
            Constraint = constraint,
        }).ToList(), logprobs is not null, bestOf);
    }

    public static ParsedRequest ParseChat(JsonElement root)
    {
        RejectUnread(root, ParamNames.Chat);
        var messages = Messages(root);
        var logprobs = OptionalBool(root, "logprobs") ?? false;
        var top = OptionalInt(root, "top_logprobs", 0, SamplingOptions.MaxTopLogprobs) ?? 0;
        if (top > 0 && !logprobs)
        {
            throw ApiErrors.BadRequest("top_logprobs needs logprobs = true", "top_logprobs");
        }

        var sampling = Sampling(root, logprobs, top);
        var maxTokens = OptionalInt(root, "max_completion_tokens", 1, int.MaxValue) ?? OptionalInt(root, "max_tokens", 1, int.MaxValue);
        var tools = ToolsParser.Parse(root);
        var constraint = ResponseFormatParser.Parse(root, chat: true);
        return Build(root, [new GenerationInput { Messages = messages, Sampling = sampling, MaxTokens = maxTokens, Stop = Stops(root), Constraint = constraint, Tools = tools }], logprobs);
    }

    // OpenAI request fields that change what the answer must be; unknown ones are named as unknown (a typo, usually).
    private static readonly HashSet<string> OpenAiFieldsNotActedOn =
    [
        "functions", "function_call", "prediction", "audio", "modalities", "reasoning_effort", "web_search_options",
        "service_tier", "store", "metadata", "guided_json", "guided_regex", "guided_choice", "guided_grammar",
    ];

    private static void RejectUnread(JsonElement root, IReadOnlyList<string> read)
    {
        if (root.ValueKind != JsonValueKind.Object)
            return;
        foreach (var field in root.EnumerateObject())
        {
            if (field.Value.ValueKind == JsonValueKind.Null || read.Contains(field.Name))
                continue;
            throw OpenAiFieldsNotActedOn.Contains(field.Name)
                ? ApiErrors.BadRequest($"'{field.Name}' is not supported by this server; remove it (a server that ignored it would answer something other than what was asked)", field.Name, "unsupported_parameter")
                : ApiErrors.BadRequest($"unknown field '{field.Name}'; this endpoint reads: {string.Join(", ", read)}", field.Name, "unknown_parameter");
        }
    }

    private static ParsedRequest Build(JsonElement root, List<GenerationInput> perPrompt, bool logprobs, int? bestOf = null)
    {
        var model = OptionalString(root, "model");
        var returned = OptionalInt(root, "n", 1, MaxChoices) ?? 1;
        if (bestOf < returned)
        {
            throw ApiErrors.BadRequest($"best_of ({bestOf}) must be at least n ({returned}): the n best of best_of candidates are returned", "best_of");
        }

        var n = bestOf ?? returned;
        if (n * perPrompt.Count > MaxChoices)
        {
            throw ApiErrors.BadRequest($"{perPrompt.Count} prompts x {(bestOf is null ? "n" : "best_of")} = {n} is {n * perPrompt.Count} choices; at most {MaxChoices} are allowed", bestOf is null ? "n" : "best_of");
        }

        var stream = OptionalBool(root, "stream") ?? false;
        if (stream && n > returned)
        {
            throw ApiErrors.BadRequest("best_of cannot be streamed: the best candidates are known only when all have finished; remove stream or best_of", "best_of");
        }

        var includeUsage = false;
        if (Field(root, "stream_options") is { } so)
        {
            if (so.ValueKind != JsonValueKind.Object)
            {
                throw ApiErrors.BadRequest("stream_options must be an object", "stream_options");
            }

            includeUsage = OptionalBool(so, "include_usage", "stream_options.include_usage") ?? false;
        }

        _ = OptionalString(root, "user");
        var choices = new List<GenerationInput>(perPrompt.Count * n);
        foreach (var input in perPrompt)
        {
            for (var j = 0; j < n; j++)
            {
                // With a seed, choice j draws from seed + j: n copies of one seed would give n identical answers.
                choices.Add(input with
                {
                    Model = model,
                    Sampling = input.Sampling.Seed is { } seed && j > 0 ? input.Sampling with { Seed = seed + (ulong)j } : input.Sampling,
                });
            }
        }

        return new ParsedRequest { Model = model, Choices = choices, N = n, Returned = returned, Stream = stream, IncludeUsage = includeUsage, Logprobs = logprobs };
    }

    private static SamplingOptions Sampling(JsonElement root, bool logprobs, int topLogprobs)
    {
        var s = new SamplingOptions
        {
            Temperature = OptionalFloat(root, "temperature", 0, 2) ?? 1,
            TopP = OptionalFloat(root, "top_p", 0, 1) ?? 1,
            TopK = OptionalInt(root, "top_k", -1, int.MaxValue) is { } k and > 0 ? k : 0,
            MinP = OptionalFloat(root, "min_p", 0, 1) ?? 0,
            PresencePenalty = OptionalFloat(root, "presence_penalty", -2, 2) ?? 0,
            FrequencyPenalty = OptionalFloat(root, "frequency_penalty", -2, 2) ?? 0,
            RepetitionPenalty = OptionalFloat(root, "repetition_penalty", float.Epsilon, float.MaxValue) ?? 1,
            Seed = OptionalLong(root, "seed") is { } seed ? unchecked((ulong)seed) : null,
            Logprobs = logprobs,
            TopLogprobs = topLogprobs,
            LogitBias = LogitBias(root),
        };
        if (s.TopP == 0)
        {
            // top_p = 0 is sent by clients meaning "only the most likely token"; the sampler wants (0, 1].
            s = s with { TopP = 1, TopK = 1 };
        }

        try
        {
            s.Validate();
        }
        catch (ArgumentException e)
        {
            throw ApiErrors.BadRequest(e.Message, e.ParamName is { } p ? ParamNames.FromEngine(p) : null);
        }

        return s;
    }

    // OpenAI's shape: {"token id": bias}, ids as strings (JSON keys), biases in [-100, 100].
    private static Dictionary<int, float>? LogitBias(JsonElement root)
    {
        if (Field(root, "logit_bias") is not { } bias)
        {
            return null;
        }

        if (bias.ValueKind != JsonValueKind.Object)
        {
            throw ApiErrors.BadRequest("logit_bias must be an object mapping token ids to biases, e.g. {\"50256\": -100}", "logit_bias");
        }

        var map = new Dictionary<int, float>();
        foreach (var entry in bias.EnumerateObject())
        {
            if (!int.TryParse(entry.Name, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var id))
            {
                throw ApiErrors.BadRequest($"logit_bias key '{entry.Name}' is not a token id (an integer >= 0 written as a string)", "logit_bias");
            }

            if (entry.Value.ValueKind != JsonValueKind.Number || !entry.Value.TryGetDouble(out var value) || !(value >= -SamplingOptions.MaxLogitBias && value <= SamplingOptions.MaxLogitBias))
            {
                throw ApiErrors.BadRequest($"logit_bias[{entry.Name}] must be a number from -100 to 100", "logit_bias");
            }

            map[id] = (float)value;
        }

        return map.Count > 0 ? map : null;
    }

    private static List<(string? Text, int[]? Tokens)> Prompts(JsonElement root)
    {
        var prompt = Field(root, "prompt") ?? throw ApiErrors.BadRequest("prompt is required", "prompt");
        switch (prompt.ValueKind)
        {
            case JsonValueKind.String:
                return [(prompt.GetString(), null)];
            case JsonValueKind.Array when prompt.GetArrayLength() == 0:
                throw ApiErrors.BadRequest("prompt must not be an empty array", "prompt");
            case JsonValueKind.Array:
                var first = prompt[0].ValueKind;
                if (first == JsonValueKind.Number)
                {
                    return [(null, TokenIds(prompt, "prompt"))];
                }

                var list = new List<(string?, int[]?)>();
                var i = 0;
                foreach (var item in prompt.EnumerateArray())
                {
                    list.Add(item.ValueKind switch
                    {
                        JsonValueKind.String => (item.GetString(), null),
                        JsonValueKind.Array => (null, TokenIds(item, $"prompt[{i}]")),
                        _ => throw ApiErrors.BadRequest($"prompt[{i}] must be a string or an array of token ids", "prompt"),
                    });
                    i++;
                }

                return list;
            default:
                throw ApiErrors.BadRequest("prompt must be a string, an array of strings, an array of token ids or an array of such arrays", "prompt");
        }
    }

    public static int[] TokenIds(JsonElement array, string where)
    {
        if (array.ValueKind != JsonValueKind.Array)
        {
            throw ApiErrors.BadRequest($"{where} must be an array of token ids", Root(where));
        }

        var ids = new int[array.GetArrayLength()];
        var i = 0;
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt32(out ids[i]) || ids[i] < 0)
            {
                throw ApiErrors.BadRequest($"{where}[{i}] must be a token id (an integer >= 0)", Root(where));
            }

            i++;
        }

        return ids;
    }

    private static List<ChatMessage> Messages(JsonElement root)
    {
        var messages = Field(root, "messages") ?? throw ApiErrors.BadRequest("messages is required", "messages");
        if (messages.ValueKind != JsonValueKind.Array || messages.GetArrayLength() == 0)
        {
            throw ApiErrors.BadRequest("messages must be a non-empty array", "messages");
        }

        var list = new List<ChatMessage>(messages.GetArrayLength());
        var i = 0;
        foreach (var m in messages.EnumerateArray())
        {
            var where = $"messages[{i}]";
            if (m.ValueKind != JsonValueKind.Object)
            {
                throw ApiErrors.BadRequest($"{where} must be an object with role and content", "messages");
            }

            var role = OptionalString(m, "role", $"{where}.role") ?? throw ApiErrors.BadRequest($"{where}.role is required", "messages");
            if (!Roles.Contains(role))
            {
                throw ApiErrors.BadRequest($"{where}.role '{role}' is not one of {string.Join(", ", Roles)}", "messages");
            }

            list.Add(ToolsParser.WithToolFields(new ChatMessage(role, Content(Field(m, "content"), where)), m, where));
            i++;
        }

        return list;
    }

    private static string Content(JsonElement? content, string where)
    {
        if (content is not { } c)
        {
            return "";
        }

        if (c.ValueKind == JsonValueKind.String)
        {
            return c.GetString()!;
        }

        if (c.ValueKind != JsonValueKind.Array)
        {
            throw ApiErrors.BadRequest($"{where}.content must be a string or an array of text parts", "messages");
        }

        var text = new System.Text.StringBuilder();
        var i = 0;
        foreach (var part in c.EnumerateArray())
        {
            var type = part.ValueKind == JsonValueKind.Object ? OptionalString(part, "type", $"{where}.content[{i}].type") : null;
            if (type != "text" || OptionalString(part, "text", $"{where}.content[{i}].text") is not { } t)
            {
                throw ApiErrors.BadRequest($"{where}.content[{i}] must be a text part {{\"type\":\"text\",\"text\":...}} (this model reads text only)", "messages");
            }

            text.Append(t);
            i++;
        }

        return text.ToString();
    }

    private static IReadOnlyList<string> Stops(JsonElement root)
    {
        if (Field(root, "stop") is not { } stop)
        {
            return [];
        }

        if (stop.ValueKind == JsonValueKind.String)
        {
            return stop.GetString() is { Length: > 0 } s ? [s] : [];
        }

        if (stop.ValueKind != JsonValueKind.Array || stop.GetArrayLength() > MaxStops)
        {
            throw ApiErrors.BadRequest($"stop must be a string or an array of at most {MaxStops} strings", "stop");
        }

        var list = new List<string>();
        foreach (var item in stop.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String)
            {
                throw ApiErrors.BadRequest("stop must be a string or an array of strings", "stop");
            }

            if (item.GetString() is { Length: > 0 } s)
            {
                list.Add(s);
            }
        }

        return list;
    }

    public static JsonElement? Field(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;

    public static string? OptionalString(JsonElement obj, string name, string? param = null)
    {
        if (Field(obj, name) is not { } v)
        {
            return null;
        }

        return v.ValueKind == JsonValueKind.String ? v.GetString() : throw TypeError(param ?? name, "a string");
    }

    public static bool? OptionalBool(JsonElement obj, string name, string? param = null)
    {
        if (Field(obj, name) is not { } v)
        {
            return null;
        }

        return v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw TypeError(param ?? name, "true or false"),
        };
    }

    public static int? OptionalInt(JsonElement obj, string name, int min, int max)
    {
        if (Field(obj, name) is not { } v)
        {
            return null;
        }

        // Accept 3.0 for 3 (JavaScript clients send whole doubles), reject 3.5.
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetDouble(out var d) || d != Math.Floor(d))
        {
            throw TypeError(name, "an integer");
        }

        if (d < min || d > max)
        {
            throw ApiErrors.BadRequest($"{name} is {v.GetRawText()} but must be {Range(min, max)}", name);
        }

        return (int)d;
    }

    private static long? OptionalLong(JsonElement obj, string name)
    {
        if (Field(obj, name) is not { } v)
        {
            return null;
        }

        return v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var l) ? l : throw TypeError(name, "an integer");
    }

    private static float? OptionalFloat(JsonElement obj, string name, float min, float max)
    {
        if (Field(obj, name) is not { } v)
        {
            return null;
        }

        if (v.ValueKind != JsonValueKind.Number || !v.TryGetDouble(out var d))
        {
            throw TypeError(name, "a number");
        }

        if (!(d >= min && d <= max))
        {
            throw ApiErrors.BadRequest($"{name} is {v.GetRawText()} but must be {(max == float.MaxValue ? $"> 0" : $"in [{min}, {max}]")}", name);
        }

        return (float)d;
    }

    private static string Range(int min, int max) => max == int.MaxValue ? $">= {min}" : $"in [{min}, {max}]";

    private static Backends.BackendException TypeError(string param, string expected) =>
        ApiErrors.BadRequest($"{param} must be {expected}", Root(param));

    private static string Root(string param)
    {
        var cut = param.IndexOfAny(['[', '.']);
        return cut > 0 ? param[..cut] : param;
    }
}
