using static TorchSharp.torch;

namespace WrinkleFree.Training.Model;

/// <summary>The Hugging Face <c>model.</c> prefix: token embeddings, the decoder layers and the final norm.</summary>
internal sealed class TransformerBody : nn.Module
{
    public TransformerBody(ModelConfig c, Device device)
        : base(nameof(TransformerBody))
    {
        EmbedTokens = nn.Embedding(c.VocabSize, c.HiddenSize, device: device);
        using (no_grad())
        {
            nn.init.normal_(EmbedTokens.weight!, 0, 0.02);
        }

        Layers = nn.ModuleList(Enumerable.Range(0, c.NumHiddenLayers).Select(_ => new DecoderLayer(c, device)).ToArray());
        Norm = new RmsNorm(c.HiddenSize, c.RmsNormEps, device);
        register_module("embed_tokens", EmbedTokens);
        register_module("layers", Layers);
        register_module("norm", Norm);
    }

    public TorchSharp.Modules.Embedding EmbedTokens { get; }

    public TorchSharp.Modules.ModuleList<DecoderLayer> Layers { get; }

    public RmsNorm Norm { get; }
}
