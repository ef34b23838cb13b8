using static TorchSharp.torch;

namespace WrinkleFree.Training.Losses;

/// <summary>Next-token cross-entropy: logits at position t predict labels at t + 1; labels equal to the ignore index do not count.</summary>
public static class LanguageModelLoss
{
    /// <summary>The label value that is skipped (Hugging Face's convention).</summary>
    public const long IgnoreIndex = -100;

    /// <summary>Mean cross-entropy over the counted positions of logits [B, T, V] against labels [B, T] (int64).</summary>
    public static Tensor Compute(Tensor logits, Tensor labels, long ignoreIndex = IgnoreIndex)
    {
        if (logits.dim() != 3 || labels.dim() != 2 || logits.shape[0] != labels.shape[0] || logits.shape[1] != labels.shape[1])
        {
            throw new ArgumentException(
                $"logits must be [B, T, V] and labels [B, T]; got [{string.Join(", ", logits.shape)}] and [{string.Join(", ", labels.shape)}]");
        }

        var t = logits.shape[1];
        var v = logits.shape[2];
        var predictions = logits.narrow(1, 0, t - 1).reshape(-1, v);
        var targets = labels.narrow(1, 1, t - 1).reshape(-1);
        return nn.functional.cross_entropy(predictions, targets, ignore_index: ignoreIndex);
    }
}
