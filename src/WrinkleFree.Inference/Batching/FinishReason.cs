namespace WrinkleFree.Inference.Batching;

/// <summary>Why a sequence ended, named as the OpenAI API names it.</summary>
public enum FinishReason
{
    /// <summary>An end-of-generation token, a stop token id or a stop string.</summary>
    Stop,

    /// <summary>max_tokens or the context limit was reached.</summary>
    Length,
}
