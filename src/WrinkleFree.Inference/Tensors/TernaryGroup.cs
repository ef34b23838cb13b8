using System.Runtime.CompilerServices;
using WrinkleFree.Inference.Tensors.Kernels;
using WrinkleFree.Inference.Threading;

namespace WrinkleFree.Inference.Tensors;

/// <summary>
/// Two or three ternary matrices that read the same input (q/k/v, gate/up) multiplied in one pool dispatch: their rows
/// form one range that the threads split, so the small K/V matrices no longer pay a dispatch and a tail of idle threads
/// each. The activations are quantized once (the batch caches its int8 form). One group per caller; not thread-safe.
/// </summary>
internal sealed unsafe class TernaryGroup : IParallelWork
{
    private readonly TernaryMatrix[] _parts;
    private readonly int[] _firstRow;
    private readonly TernaryArgs[] _args;
    private readonly nint[] _kernels;

    private TernaryGroup(TernaryMatrix[] parts)
    {
        _parts = parts;
        _firstRow = new int[parts.Length + 1];
        for (var i = 0; i < parts.Length; i++)
        {
            _firstRow[i + 1] = _firstRow[i] + parts[i].Rows;
        }

        _args = new TernaryArgs[parts.Length];
        // Each part keeps the kernel of the family it was created with.
        _kernels = new nint[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            _kernels[i] = (nint)parts[i].Kernel;
        }
    }

    /// <summary>A group of <paramref name="matrices"/>, or null when they are not all ternary with the same row length.</summary>
    public static TernaryGroup? TryCreate(params WeightMatrix[] matrices)
    {
        if (matrices.Length is < 2 or > 3)
        {
            return null;
        }

        var parts = new TernaryMatrix[matrices.Length];
        for (var i = 0; i < matrices.Length; i++)
        {
            if (matrices[i] is not TernaryMatrix t || t.Columns != matrices[0].Columns)
            {
                return null;
            }

            parts[i] = t;
        }

        return new TernaryGroup(parts);
    }

    /// <summary>y_i = W_i·x for each part (outputs laid out as <see cref="WeightMatrix.Multiply"/> writes them); y2 is ignored for two parts.</summary>
    public void Multiply(ActivationBatch x, Span<float> y0, Span<float> y1, Span<float> y2, WorkerPool pool)
    {
        _parts[0].Validate(x, y0, pool);
        _parts[1].Validate(x, y1, pool);
        if (_parts.Length > 2)
        {
            _parts[2].Validate(x, y2, pool);
        }

        fixed (float* p0 = y0)
        fixed (float* p1 = y1)
        fixed (float* p2 = y2)
        {
            _args[0] = _parts[0].Arguments(x, p0, pool);
            _args[1] = _parts[1].Arguments(x, p1, pool);
            if (_parts.Length > 2)
            {
                _args[2] = _parts[2].Arguments(x, p2, pool);
            }

            pool.Run(this, _firstRow[^1]);
        }

        // Drop the pointers into the caller's spans.
        Array.Clear(_args);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Execute(int start, int end)
    {
        for (var i = 0; i < _parts.Length; i++)
        {
            var from = Math.Max(start, _firstRow[i]);
            var to = Math.Min(end, _firstRow[i + 1]);
            if (from < to)
            {
                var kernel = (delegate*<in TernaryArgs, int, int, void>)_kernels[i];
                kernel(in _args[i], from - _firstRow[i], to - _firstRow[i]);
            }
        }
    }
}
