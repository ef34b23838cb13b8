using static TorchSharp.torch;

namespace WrinkleFree.Training.Model;

/// <summary>One pre-norm transformer block: x + attn(norm(x)), then h + mlp(norm(h)).</summary>
internal sealed class DecoderLayer : nn.Module
{
    public DecoderLayer(ModelConfig c, Device device)
        : base(nameof(DecoderLayer))
    {
        InputNorm = new RmsNorm(c.HiddenSize, c.RmsNormEps, device);
        SelfAttention = new Attention(c, device);
        PostAttentionNorm = new RmsNorm(c.HiddenSize, c.RmsNormEps, device);
        Mlp = new Mlp(c, device);
        register_module("input_layernorm", InputNorm);
        register_module("self_attn", SelfAttention);
        register_module("post_attention_layernorm", PostAttentionNorm);
        register_module("mlp", Mlp);
    }

    public RmsNorm InputNorm { get; }

    public Attention SelfAttention { get; }

    public RmsNorm PostAttentionNorm { get; }

    public Mlp Mlp { get; }

    public Tensor Forward(Tensor x, Tensor cos, Tensor sin, bool wantCapture, out AttentionCapture? capture)
    {
        var h = x + SelfAttention.Forward(InputNorm.forward(x), cos, sin, wantCapture, out capture);
        return h + Mlp.forward(PostAttentionNorm.forward(h));
    }
}
