using System.Runtime.CompilerServices;
using WrinkleFree.Inference.Tensors;
using WrinkleFree.Inference.Threading;

namespace WrinkleFree.Inference.Models;

/// <summary>A weight matrix with the optional per-tensor <c>.scale</c> (llama.cpp bitnet) and <c>.bias</c> applied after it.</summary>
public sealed class LinearLayer(WeightMatrix weight, float scale = 1f, float[]? bias = null)
{
    public WeightMatrix Weight { get; } = weight;

    public float Scale { get; } = scale;

    public float[]? Bias { get; } = bias;

    public int Rows => Weight.Rows;

    public void Forward(ActivationBatch x, Span<float> y, WorkerPool pool)
    {
        Weight.Multiply(x, y[..(x.Batch * Weight.Rows)], pool);
        Finish(x.Batch, y);
    }

    /// <summary>Applies the scale and bias to <paramref name="batch"/> rows of raw matrix output (after a fused multiply).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal void Finish(int batch, Span<float> y)
    {
        var rows = Weight.Rows;
        var output = y[..(batch * rows)];
        if (Scale != 1f)
        {
            HotMath.Scale(output, Scale);
        }

        if (Bias is { } bias)
        {
            for (var b = 0; b < batch; b++)
            {
                var row = output.Slice(b * rows, rows);
                HotMath.Add(row, bias);
            }
        }
    }
}
