namespace WrinkleFree.Inference.Batching;

/// <summary>
/// Serving one sequence failed inside the engine (non-finite logits from corrupt weights, a kernel or sampler error): that
/// sequence ends with this error and the engine goes on with the others.
/// </summary>
public sealed class SequenceFaultException(string message, Exception? inner = null) : Exception(message, inner);
