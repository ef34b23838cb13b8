using static TorchSharp.torch;

namespace WrinkleFree.Training.Model;

/// <summary>Builds the linear layers of a block: <see cref="BitLinear"/> for ternary configs, a bias-free nn.Linear otherwise.</summary>
internal static class Layers
{
    public static nn.Module<Tensor, Tensor> Linear(ModelConfig c, long inFeatures, long outFeatures, Device device)
    {
        if (c.Ternary)
        {
            return new BitLinear(inFeatures, outFeatures, device);
        }

        var linear = nn.Linear(inFeatures, outFeatures, hasBias: false, device: device);
        // HF initializer_range 0.02 (nn.Linear's default Kaiming init is scaled for other architectures).
        using (no_grad())
        {
            nn.init.normal_(linear.weight!, 0, 0.02);
        }

        return linear;
    }

    /// <summary>The [out, in] weight of a layer built by <see cref="Linear"/>.</summary>
    public static TorchSharp.Modules.Parameter Weight(nn.Module<Tensor, Tensor> layer) => layer switch
    {
        BitLinear b => b.Weight,
        TorchSharp.Modules.Linear l => l.weight!,
        _ => throw new InvalidOperationException($"unexpected layer type {layer.GetType().Name}"),
    };
}
