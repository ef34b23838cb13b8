namespace WrinkleFree.Inference.Models;

/// <summary>A sequence would grow past its context limit; the message gives both numbers.</summary>
public sealed class ContextLengthExceededException(int requested, int limit)
    : Exception($"the sequence needs {requested} tokens but the context limit is {limit}; shorten the prompt or lower max_tokens")
{
    public int Requested { get; } = requested;

    public int Limit { get; } = limit;
}
