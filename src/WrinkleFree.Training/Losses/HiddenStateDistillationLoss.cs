using static TorchSharp.torch;

namespace WrinkleFree.Training.Losses;

/// <summary>
/// Stage 1.9 layer-wise distillation: for each layer l = 1..L a normalized MSE ‖h_s − h_t‖² / ‖h_t‖² (norms over the whole
/// batch), combined with progressive weights w_l = l / Σ_k k, so the last layer weighs L times the first: later layers
/// carry what the LM head sees, and early layers are left freedom to adapt to ternary weights. The embedding output
/// (hidden state 0) is skipped: it is not quantized.
/// </summary>
public static class HiddenStateDistillationLoss
{
    /// <summary>The progressive weight of layer <paramref name="layer"/> (1-based) among <paramref name="layers"/>.</summary>
    public static double LayerWeight(int layer, int layers) => layer / (layers * (layers + 1) / 2.0);

    /// <summary>Weighted sum over layers; both lists come from <c>ForwardOptions.OutputHiddenStates</c> and must have the same length.</summary>
    public static Tensor Compute(IReadOnlyList<Tensor> student, IReadOnlyList<Tensor> teacher)
    {
        if (student.Count != teacher.Count || student.Count < 2)
        {
            throw new ArgumentException(
                $"student has {student.Count} hidden states and teacher {teacher.Count}; they must match (same layer count) and include at least one layer");
        }

        var layers = student.Count - 1;
        Tensor? total = null;
        for (var l = 1; l <= layers; l++)
        {
            var t = teacher[l].detach();
            var term = (student[l] - t).pow(2).sum() / t.pow(2).sum().clamp_min(1e-12) * LayerWeight(l, layers);
            total = total is null ? term : total + term;
        }

        return total!;
    }
}
