using System.Text.Json;

namespace WrinkleFree.Replica.Chat;

/// <summary>
/// One declared function tool. <see cref="Definition"/> is the client's whole <c>{"type":"function","function":{...}}</c>
/// object, passed to chat templates unchanged (HF's convention) and forwarded to upstreams as sent.
/// </summary>
public sealed record ChatTool(string Name, string? Description, JsonElement? Parameters, JsonElement Definition)
{
    private Lazy<Inference.Sampling.Constraints.Grammar>? _strict;

    /// <summary>
    /// For a <c>strict: true</c> function, its parameters schema as a grammar: a call whose arguments it does not accept
    /// is not a call (it stays content), so a strict tool's calls always match its schema, forced or not. Compiled on
    /// first use, by the engine that enforces it (a vllm upstream enforces strict itself).
    /// </summary>
    public Inference.Sampling.Constraints.Grammar? StrictArguments
    {
        get => _strict?.Value;
        init => _strict = value is null ? null : new Lazy<Inference.Sampling.Constraints.Grammar>(value);
    }

    /// <summary>Compiles <see cref="StrictArguments"/> on first use (a failure is kept and thrown again).</summary>
    public Func<Inference.Sampling.Constraints.Grammar>? CompileStrictArguments
    {
        init => _strict = value is null ? null : new Lazy<Inference.Sampling.Constraints.Grammar>(value, LazyThreadSafetyMode.ExecutionAndPublication);
    }
}
