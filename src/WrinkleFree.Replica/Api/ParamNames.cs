namespace WrinkleFree.Replica.Api;

/// <summary>Maps engine option names (SamplingOptions properties) to the request fields clients wrote.</summary>
internal static class ParamNames
{
    /// <summary>Every top-level field /v1/completions reads (the hostile-request tests sweep each with every JSON kind).</summary>
    public static IReadOnlyList<string> Completions { get; } =
    [
        "model", "prompt", "max_tokens", "temperature", "top_p", "top_k", "min_p", "presence_penalty", "frequency_penalty",
        "repetition_penalty", "seed", "logprobs", "echo", "n", "stream", "stream_options", "stop", "user", "logit_bias", "suffix",
        "best_of", "grammar",
    ];

    /// <summary>Every top-level field /v1/chat/completions reads.</summary>
    public static IReadOnlyList<string> Chat { get; } =
    [
        "model", "messages", "max_tokens", "max_completion_tokens", "temperature", "top_p", "top_k", "min_p",
        "presence_penalty", "frequency_penalty", "repetition_penalty", "seed", "logprobs", "top_logprobs", "n", "stream",
        "stream_options", "stop", "user", "logit_bias", "tools", "tool_choice", "parallel_tool_calls",
        "response_format", "grammar",
    ];

    public static string FromEngine(string name) => name switch
    {
        "Temperature" => "temperature",
        "TopK" => "top_k",
        "TopP" => "top_p",
        "MinP" => "min_p",
        "RepetitionPenalty" => "repetition_penalty",
        "PresencePenalty" => "presence_penalty",
        "FrequencyPenalty" => "frequency_penalty",
        "TopLogprobs" => "top_logprobs",
        "Logprobs" => "logprobs",
        "LogitBias" => "logit_bias",
        "request" => "prompt",
        _ => name,
    };
}
