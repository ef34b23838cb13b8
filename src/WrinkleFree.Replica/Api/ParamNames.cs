namespace WrinkleFree.Replica.Api;

/// <summary>Maps engine option names (SamplingOptions properties) to the request fields clients wrote.</summary>
internal static class ParamNames
{
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
        "request" => "prompt",
        _ => name,
    };
}
