namespace WrinkleFree.Inference.Sampling.Constraints;

/// <summary>One position of a flattened grammar alternative: a character class, a rule reference, or the end.</summary>
internal readonly record struct GrammarElement(GrammarElementKind Kind, int Value)
{
    public static GrammarElement End => new(GrammarElementKind.End, 0);
}

internal enum GrammarElementKind : byte
{
    End,
    Char,
    Rule,
}
