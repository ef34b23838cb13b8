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

    public static ModelConfig FromGguf(GgufMetadata m, ArchitectureSpec arch, int vocabSize)
    {
        var p = arch.Name + ".";
        var dim = (int)m.GetInteger(p + "embedding_length");
        var heads = (int)m.GetInteger(p + "attention.head_count");
        var headDim = (int)m.GetInteger(p + "attention.key_length", heads > 0 ? dim / heads : 0);
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
            Layers = (int)m.GetInteger(p + "block_count"),
            Heads = heads,
            KvHeads = (int)m.GetInteger(p + "attention.head_count_kv", heads),
            HeadDim = headDim,
            FfnDim = (int)m.GetInteger(p + "feed_forward_length"),
            VocabSize = vocabSize,
            ContextLength = (int)m.GetInteger(p + "context_length", 4096),
            NormEps = (float)m.GetFloat(p + "attention.layer_norm_rms_epsilon", 1e-5),
            RopeBase = (float)m.GetFloat(p + "rope.freq_base", arch.DefaultRopeBase),
            RopeDims = (int)m.GetInteger(p + "rope.dimension_count", headDim),
            Activation = act,
        };
        config.Validate();
        return config;
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
