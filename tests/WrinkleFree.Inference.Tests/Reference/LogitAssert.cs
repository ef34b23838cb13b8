namespace WrinkleFree.Inference.Tests.Reference;

/// <summary>Comparisons for logit rows shared by the reference tests (and usable by engine-vs-llama.cpp tests).</summary>
internal static class LogitAssert
{
    public static void Close(float[] expected, float[] actual, int position)
    {
        Assert.Equal(expected.Length, actual.Length);
        float scale = 0, worst = 0;
        var worstIndex = 0;
        for (var i = 0; i < expected.Length; i++)
        {
            scale = Math.Max(scale, Math.Abs(expected[i]));
            var diff = Math.Abs(expected[i] - actual[i]);
            if (diff > worst)
            {
                worst = diff;
                worstIndex = i;
            }
        }

        // llama.cpp picks kernels and the F16 KV cache path by batch shape, so rows from different batch sizes agree only
        // to rounding; measured relative to the row's largest logit, which is what decides argmax and softmax.
        Assert.True(worst <= 1e-3f * scale,
            $"position {position}, logit {worstIndex}: {expected[worstIndex]} vs {actual[worstIndex]} (row max |logit| {scale})");
    }

    public static int ArgMax(float[] values)
    {
        var best = 0;
        for (var i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best])
            {
                best = i;
            }
        }

        return best;
    }
}
