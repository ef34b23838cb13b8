namespace WrinkleFree.Inference.Sampling.Constraints;

/// <summary>
/// A parsed grammar flattened for matching: every alternative is a run of <see cref="Elements"/> closed by an End element;
/// <see cref="RuleAlternatives"/> holds, per rule, where its alternatives start.
/// </summary>
internal sealed record CompiledGrammar(GrammarElement[] Elements, int[][] RuleAlternatives, CharClass[] Classes, string[] RuleNames, int Root);
