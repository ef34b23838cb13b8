namespace WrinkleFree.Inference.Sampling.Constraints;

/// <summary>A GBNF grammar that does not parse or cannot be matched (undefined rule, left recursion), with where.</summary>
public sealed class GrammarException : ArgumentException
{
    public GrammarException(string message)
        : base(message)
    {
    }

    public GrammarException(string message, Exception inner)
        : base(message, inner)
    {
    }

    public GrammarException()
    {
    }
}
