namespace WrinkleFree.Inference.Sampling;

/// <summary>A token and its natural-log probability under the penalized, untempered distribution.</summary>
public readonly record struct TokenLogprob(int TokenId, float Logprob);
