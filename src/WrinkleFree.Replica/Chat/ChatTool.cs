using System.Text.Json;

namespace WrinkleFree.Replica.Chat;

/// <summary>
/// One declared function tool. <see cref="Definition"/> is the client's whole <c>{"type":"function","function":{...}}</c>
/// object, passed to chat templates unchanged (HF's convention) and forwarded to upstreams as sent.
/// </summary>
public sealed record ChatTool(string Name, string? Description, JsonElement? Parameters, JsonElement Definition)
{
    /// <summary>
    /// For a <c>strict: true</c> function, its parameters schema as a grammar: a call whose arguments it does not accept
    /// is not a call (it stays content), so a strict tool's calls always match its schema, forced or not.
    /// </summary>
    public Inference.Sampling.Constraints.Grammar? StrictArguments { get; init; }
}
