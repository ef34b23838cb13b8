using WrinkleFree.Training.Model;
using static TorchSharp.torch;

namespace WrinkleFree.Training.Losses;

/// <summary>
/// Stage 3 loss L = CE + λ·KL(teacher ‖ student, T) + γ·AR (MiniLM attention relations at <see cref="Layer"/>).
/// Paper defaults: classification λ = 10, γ = 1e5; summarization λ = 1, γ = 1e3; T = 5.
/// </summary>
public sealed record DistillationObjective
{
    public static DistillationObjective Classification { get; } = new() { Lambda = 10, Gamma = 1e5 };

    public static DistillationObjective Summarization { get; } = new() { Lambda = 1, Gamma = 1e3 };

    /// <summary>Weight of the logit distillation term.</summary>
    public double Lambda { get; init; } = 10;

    /// <summary>Weight of the attention-relation term.</summary>
    public double Gamma { get; init; } = 1e5;

    public double Temperature { get; init; } = LogitDistillationLoss.DefaultTemperature;

    /// <summary>Layer whose Q/K/V are distilled (0-based); null means the last layer.</summary>
    public int? Layer { get; init; }

    public int RelationHeads { get; init; } = 8;

    /// <summary>The layer to capture for a model of <paramref name="layers"/> layers.</summary>
    public int LayerFor(int layers) => Layer ?? layers - 1;

    /// <summary>
    /// Combines the terms; both outputs need logits, and attention captures of <see cref="LayerFor"/> unless γ = 0.
    /// </summary>
    public DistillationLossTerms Compute(ModelOutput student, ModelOutput teacher, Tensor labels)
    {
        var ce = LanguageModelLoss.Compute(student.Logits, labels);
        var kl = LogitDistillationLoss.Compute(student.Logits, teacher.Logits, Temperature);
        Tensor ar;
        if (Gamma == 0)
        {
            ar = zeros(1, device: ce.device).squeeze();
        }
        else
        {
            var s = student.Attention ?? throw new ArgumentException("the student output has no attention capture; forward with CaptureAttentionLayer set");
            var t = teacher.Attention ?? throw new ArgumentException("the teacher output has no attention capture; forward with CaptureAttentionLayer set");
            ar = AttentionRelationLoss.Compute(s, t, RelationHeads);
        }

        return new DistillationLossTerms(ce + Lambda * kl + Gamma * ar, ce, kl, ar);
    }
}
