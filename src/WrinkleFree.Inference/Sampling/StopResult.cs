namespace WrinkleFree.Inference.Sampling;

/// <summary>What <see cref="StopMatcher.Push"/> lets through: text safe to emit now, and whether a stop string ended generation.</summary>
public readonly record struct StopResult(string Emit, bool Stopped);
