namespace WrinkleFree.Replica.Api;

/// <summary>
/// What one generation request used, set as a request feature for the access log line: the generation endpoints fill it
/// in when they finish, whatever the outcome.
/// </summary>
internal sealed class RequestUsage
{
    /// <summary>Prompt tokens, counted once per prompt (as the response's usage counts them).</summary>
    public int PromptTokens { get; set; }

    /// <summary>Tokens generated over every choice.</summary>
    public int GeneratedTokens { get; set; }

    /// <summary>Request arrival to the first generated token of any choice; null when none was generated.</summary>
    public TimeSpan? TimeToFirstToken { get; set; }
}
