using static TorchSharp.torch;

namespace WrinkleFree.Training.Model;

/// <summary>Causal grouped-query self-attention with optional Qwen3 q/k-norm and optional SubLN before o_proj.</summary>
internal sealed class Attention : nn.Module
{
    private readonly ModelConfig _c;

    public Attention(ModelConfig c, Device device)
        : base(nameof(Attention))
    {
        _c = c;
        var h = c.HiddenSize;
        var q = (long)c.NumAttentionHeads * c.HeadDimension;
        var kv = (long)c.KeyValueHeads * c.HeadDimension;
        QProj = Layers.Linear(c, h, q, device);
        KProj = Layers.Linear(c, h, kv, device);
        VProj = Layers.Linear(c, h, kv, device);
        OProj = Layers.Linear(c, q, h, device);
        register_module("q_proj", QProj);
        register_module("k_proj", KProj);
        register_module("v_proj", VProj);
        register_module("o_proj", OProj);
        if (c.QkNorm)
        {
            QNorm = new RmsNorm(c.HeadDimension, c.RmsNormEps, device);
            KNorm = new RmsNorm(c.HeadDimension, c.RmsNormEps, device);
            register_module("q_norm", QNorm);
            register_module("k_norm", KNorm);
        }

        if (c.SubLn)
        {
            SubNorm = new RmsNorm(q, c.RmsNormEps, device);
            register_module("attn_sub_norm", SubNorm);
        }
    }

    public nn.Module<Tensor, Tensor> QProj { get; }

    public nn.Module<Tensor, Tensor> KProj { get; }

    public nn.Module<Tensor, Tensor> VProj { get; }

    public nn.Module<Tensor, Tensor> OProj { get; }

    public RmsNorm? QNorm { get; }

    public RmsNorm? KNorm { get; }

    public RmsNorm? SubNorm { get; }

    /// <summary>x [B, T, hidden] → [B, T, hidden]; fills <paramref name="capture"/> when asked.</summary>
    public Tensor Forward(Tensor x, Tensor cos, Tensor sin, bool wantCapture, out AttentionCapture? capture)
    {
        var b = x.shape[0];
        var t = x.shape[1];
        var d = _c.HeadDimension;
        var q = QProj.forward(x).view(b, t, _c.NumAttentionHeads, d);
        var k = KProj.forward(x).view(b, t, _c.KeyValueHeads, d);
        var v = VProj.forward(x).view(b, t, _c.KeyValueHeads, d).transpose(1, 2);
        if (QNorm is not null)
        {
            q = QNorm.forward(q);
            k = KNorm!.forward(k);
        }

        q = Rotary.Apply(q.transpose(1, 2), cos, sin);
        k = Rotary.Apply(k.transpose(1, 2), cos, sin);
        capture = wantCapture ? new AttentionCapture(q, k, v) : null;
        var group = _c.NumAttentionHeads / _c.KeyValueHeads;
        var kr = group == 1 ? k : k.repeat_interleave(group, 1);
        var vr = group == 1 ? v : v.repeat_interleave(group, 1);
        var attn = nn.functional.scaled_dot_product_attention(q, kr, vr, is_casual: true);
        var merged = attn.transpose(1, 2).reshape(b, t, _c.NumAttentionHeads * d);
        if (SubNorm is not null)
        {
            merged = SubNorm.forward(merged);
        }

        return OProj.forward(merged);
    }
}
