namespace WrinkleFree.Inference.Tokenization;

/// <summary>
/// A code model's fill-in-the-middle token ids. The prompt for text between a prefix and a suffix is laid out
/// prefix-suffix-middle (PSM): <c>Prefix</c> + prefix text + <c>Suffix</c> + suffix text + <c>Middle</c>; the model then
/// writes the middle.
/// </summary>
public sealed record FimTokens(int Prefix, int Suffix, int Middle);
