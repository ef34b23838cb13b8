using static TorchSharp.torch;

namespace WrinkleFree.Training.Model;

/// <summary>SwiGLU MLP: down(silu(gate(x)) · up(x)), with optional SubLN on the gated hidden before down_proj.</summary>
internal sealed class Mlp : nn.Module<Tensor, Tensor>
{
    public Mlp(ModelConfig c, Device device)
        : base(nameof(Mlp))
    {
        GateProj = Layers.Linear(c, c.HiddenSize, c.IntermediateSize, device);
        UpProj = Layers.Linear(c, c.HiddenSize, c.IntermediateSize, device);
        DownProj = Layers.Linear(c, c.IntermediateSize, c.HiddenSize, device);
        register_module("gate_proj", GateProj);
        register_module("up_proj", UpProj);
        register_module("down_proj", DownProj);
        if (c.SubLn)
        {
            SubNorm = new RmsNorm(c.IntermediateSize, c.RmsNormEps, device);
            register_module("ffn_sub_norm", SubNorm);
        }
    }

    public nn.Module<Tensor, Tensor> GateProj { get; }

    public nn.Module<Tensor, Tensor> UpProj { get; }

    public nn.Module<Tensor, Tensor> DownProj { get; }

    public RmsNorm? SubNorm { get; }

    public override Tensor forward(Tensor x)
    {
        var hidden = nn.functional.silu(GateProj.forward(x)) * UpProj.forward(x);
        if (SubNorm is not null)
        {
            hidden = SubNorm.forward(hidden);
        }

        return DownProj.forward(hidden);
    }
}
