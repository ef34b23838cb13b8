namespace WrinkleFree.Inference.Tensors.Kernels;

/// <summary>
/// One F32/F16/BF16 weight read as a float, shared by the AVX2 and AVX-512 float kernels for the columns after the last
/// full vector.
/// </summary>
internal unsafe interface IFloatElement
{
    static abstract float LoadOne(byte* row, int i);

    /// <summary>Σ W[i]·x[i] for i in [<paramref name="from"/>, <paramref name="to"/>), one element at a time.</summary>
    static float Tail<TLoad>(byte* row, float* x, int from, int to)
        where TLoad : struct, IFloatElement
    {
        var sum = 0f;
        for (var i = from; i < to; i++)
        {
            sum += TLoad.LoadOne(row, i) * x[i];
        }

        return sum;
    }
}
