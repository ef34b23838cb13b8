namespace WrinkleFree.Inference.Models;

/// <summary>One token of a forward step: its id, its position in its sequence, and whether its logits are wanted.</summary>
public readonly record struct StepToken(int Token, int Position, KvSequence Sequence, bool NeedLogits);
