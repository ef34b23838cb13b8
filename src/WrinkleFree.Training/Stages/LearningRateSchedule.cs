namespace WrinkleFree.Training.Stages;

/// <summary>Learning rate and BitLinear λ as pure functions of the step, so a resumed run needs no scheduler state but the step.</summary>
public static class LearningRateSchedule
{
    /// <summary>
    /// The rate for 0-based <paramref name="step"/> of <paramref name="totalSteps"/>: linear warm-up from peak/warmup to the
    /// peak over <paramref name="warmupSteps"/>, then the <paramref name="kind"/> shape down to peak·<paramref name="minRatio"/>.
    /// </summary>
    public static double At(LearningRateScheduleKind kind, long step, long totalSteps, long warmupSteps, double peak, double minRatio = 0.1, double decayFraction = 0.2)
    {
        if (step < warmupSteps)
        {
            return peak * (step + 1) / warmupSteps;
        }

        var min = peak * minRatio;
        var remaining = Math.Max(1, totalSteps - warmupSteps);
        var progress = Math.Clamp((double)(step - warmupSteps) / remaining, 0, 1);
        switch (kind)
        {
            case LearningRateScheduleKind.Cosine:
                return min + ((peak - min) * 0.5 * (1 + Math.Cos(Math.PI * progress)));
            case LearningRateScheduleKind.Wsd:
                var decayStart = 1 - Math.Clamp(decayFraction, 0, 1);
                return progress <= decayStart || decayFraction <= 0
                    ? peak
                    : peak - ((peak - min) * (progress - decayStart) / decayFraction);
            default:
                return peak;
        }
    }

    /// <summary>BitLinear warm-up λ after <paramref name="step"/> steps: linear 0→1 over <paramref name="warmupSteps"/>, 1 when that is 0.</summary>
    public static double Lambda(long step, long warmupSteps) =>
        warmupSteps <= 0 ? 1.0 : Math.Min(1.0, (double)step / warmupSteps);
}
