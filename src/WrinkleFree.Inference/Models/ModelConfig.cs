using WrinkleFree.Inference.Gguf;

namespace WrinkleFree.Inference.Models;

/// <summary>Hyper-parameters of a loaded model, read from <c>{arch}.*</c> GGUF metadata and validated once.</summary>
public sealed record ModelConfig
{
    public required ArchitectureSpec Architecture { get; init; }
    public required int Dim { get; init; }
    public required int Layers { get; init; }
    public required int Heads { get; init; }
    public required int KvHeads { get; init; }
    public required int HeadDim { get; init; }
    public required int FfnDim { get; init; }
    public required int VocabSize { get; init; }
    public required int ContextLength { get; init; }
    public required float NormEps { get; init; }
    public required float RopeBase { get; init; }
    public required int RopeDims { get; init; }
    public required Activation Activation { get; init; }

    public int QDim => Heads * HeadDim;

    public int KvDim => KvHeads * HeadDim;

    /// <summary>Largest value a size hyper-parameter may take; far above any real model, low enough that nothing sized from it can exhaust memory.</summary>
    private const long MaxWidth = 1 << 20;

    /// <summary>Most transformer blocks.</summary>
    private const long MaxLayers = 4096;

    /// <summary>Longest context a model may declare (a replica caps it further with --ctx-size).</summary>
    private const long MaxContext = 1 << 24;

    public static ModelConfig FromGguf(GgufMetadata m, ArchitectureSpec arch, int vocabSize)
    {
        var p = arch.Name + ".";
        // Every size is range-checked as read: a cast of a hostile 64-bit value would wrap, and block_count = 2^31-1
        // would size an array of two billion layers (OutOfMemoryException) before any tensor is looked at.
        var dim = Size(m, p + "embedding_length", null, MaxWidth);
        var heads = Size(m, p + "attention.head_count", null, MaxWidth);
        var headDim = Size(m, p + "attention.key_length", dim / heads, MaxWidth);
        var act = m.GetStringOrNull(p + "hidden_act")?.ToLowerInvariant() switch
        {
            null => arch.DefaultActivation,
            "silu" or "swish" => Activation.Silu,
            "relu2" or "relu_squared" or "relu^2" or "squared_relu" => Activation.ReluSquared,
            var other => throw new GgufFormatException($"metadata key '{p}hidden_act' = '{other}' is not supported (silu or relu2)"),
        };
        var config = new ModelConfig
        {
            Architecture = arch,
            Dim = dim,
            Layers = Size(m, p + "block_count", null, MaxLayers),
            Heads = heads,
            KvHeads = Size(m, p + "attention.head_count_kv", heads, MaxWidth),
            HeadDim = headDim,
            FfnDim = Size(m, p + "feed_forward_length", null, MaxWidth * 4),
            VocabSize = vocabSize,
            ContextLength = Size(m, p + "context_length", 4096, MaxContext),
            NormEps = (float)m.GetFloat(p + "attention.layer_norm_rms_epsilon", 1e-5),
            RopeBase = (float)m.GetFloat(p + "rope.freq_base", arch.DefaultRopeBase),
            RopeDims = Size(m, p + "rope.dimension_count", headDim, MaxWidth),
            Activation = act,
        };
        config.Validate();
        return config;
    }

    private static int Size(GgufMetadata m, string key, long? fallback, long max)
    {
        var value = fallback is { } f ? m.GetInteger(key, f) : m.GetInteger(key);
        if (value < 1 || value > max)
        {
            throw new GgufFormatException($"metadata key '{key}' = {value}: must be between 1 and {max}; the file is corrupt or not a model this engine reads");
        }

        return (int)value;
    }

    private void Validate()
    {
        var p = Architecture.Name + ".";
        Check(Dim > 0, "embedding_length", Dim);
        Check(Layers > 0, "block_count", Layers);
        Check(Heads > 0, "attention.head_count", Heads);
        Check(KvHeads > 0 && Heads % KvHeads == 0, "attention.head_count_kv", KvHeads, $"must divide head_count {Heads}");
        Check(HeadDim > 0 && HeadDim % 2 == 0, "attention.key_length", HeadDim, "must be positive and even");
        Check(FfnDim > 0, "feed_forward_length", FfnDim);
        Check(ContextLength > 0, "context_length", ContextLength);
        Check(RopeDims > 0 && RopeDims <= HeadDim && RopeDims % 2 == 0, "rope.dimension_count", RopeDims, $"must be even and <= head dim {HeadDim}");
        Check(NormEps > 0, "attention.layer_norm_rms_epsilon", NormEps);
        Check(RopeBase > 0, "rope.freq_base", RopeBase);

        void Check(bool ok, string key, object value, string why = "must be positive")
        {
            if (!ok)
            {
                throw new GgufFormatException($"metadata key '{p}{key}' = {value}: {why}");
            }
        }
    }
}
