using static TorchSharp.torch;

namespace WrinkleFree.Training.Losses;

/// <summary>
/// KL(teacher ‖ student) between softmax(z/T) distributions, averaged over positions and scaled by T² so its gradient keeps
/// the same magnitude as the temperature changes (Hinton et al.).
/// </summary>
public static class LogitDistillationLoss
{
    /// <summary>BitNet Distillation's temperature.</summary>
    public const double DefaultTemperature = 5.0;

    /// <summary>Logits [..., V] of the same shape; the teacher's are detached.</summary>
    public static Tensor Compute(Tensor studentLogits, Tensor teacherLogits, double temperature = DefaultTemperature)
    {
        if (!studentLogits.shape.SequenceEqual(teacherLogits.shape))
        {
            throw new ArgumentException(
                $"student logits [{string.Join(", ", studentLogits.shape)}] and teacher logits [{string.Join(", ", teacherLogits.shape)}] differ in shape");
        }

        if (!(temperature > 0))
        {
            throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "temperature must be positive");
        }

        var v = studentLogits.shape[^1];
        var logPs = nn.functional.log_softmax(studentLogits.reshape(-1, v) / temperature, 1);
        var logPt = nn.functional.log_softmax(teacherLogits.detach().reshape(-1, v) / temperature, 1);
        var kl = (logPt.exp() * (logPt - logPs)).sum(1).mean();
        return kl * (temperature * temperature);
    }
}
