namespace WrinkleFree.Replica.Api;

/// <summary>The replica's HTTP routes.</summary>
public static class Routes
{
    public const string Completions = "/v1/completions";
    public const string ChatCompletions = "/v1/chat/completions";
    public const string Models = "/v1/models";
    public const string Tokenize = "/tokenize";
    public const string Detokenize = "/detokenize";
    public const string Health = "/health";
    public const string Metrics = "/metrics";
}
