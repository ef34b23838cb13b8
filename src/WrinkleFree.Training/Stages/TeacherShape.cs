namespace WrinkleFree.Training.Stages;

/// <summary>The architecture of a teacher trained from scratch (Qwen3- or LLaMA-style).</summary>
public sealed record TeacherShape
{
    /// <summary>"qwen3" (q/k-norm) or "llama".</summary>
    public string ModelType { get; init; } = "qwen3";

    /// <summary>Vocabulary of the BPE tokenizer trained on the data.</summary>
    public int VocabSize { get; init; } = 4096;

    /// <summary>Model width.</summary>
    public int HiddenSize { get; init; } = 256;

    /// <summary>SwiGLU inner width.</summary>
    public int IntermediateSize { get; init; } = 688;

    /// <summary>Decoder layers.</summary>
    public int Layers { get; init; } = 4;

    /// <summary>Attention heads.</summary>
    public int Heads { get; init; } = 4;

    /// <summary>Key/value heads (GQA).</summary>
    public int KeyValueHeads { get; init; } = 2;
}
