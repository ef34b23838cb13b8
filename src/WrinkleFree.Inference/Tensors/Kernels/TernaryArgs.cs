namespace WrinkleFree.Inference.Tensors.Kernels;

/// <summary>Everything a ternary kernel reads and writes for one multiply, as raw pointers into pinned or mapped memory.</summary>
internal unsafe struct TernaryArgs
{
    public byte* Weights;
    public int Rows;
    public int Columns;

    /// <summary>The I2_S per-tensor scale (the block formats carry their own).</summary>
    public float WeightScale;

    /// <summary>Per-row weight scales (a repacked TQ2_0 tensor), or null when <see cref="WeightScale"/> holds for every row.</summary>
    public float* RowScale;
    public int Batch;

    /// <summary>Natural-order int8 activations, rows <see cref="Stride"/> apart.</summary>
    public sbyte* Q;

    /// <summary>Interleaved int8 activations (see <see cref="Int8Activations.QInterleaved"/>).</summary>
    public sbyte* QInterleaved;
    public int Stride;
    public float* ActScale;
    public int* RowSum;
    public int* BlockSum;
    public int Blocks;

    /// <summary>Output, y[b·Rows + r].</summary>
    public float* Y;

    /// <summary>The weight scale of row <paramref name="r"/>.</summary>
    public readonly float ScaleOf(int r) => RowScale != null ? RowScale[r] : WeightScale;

    public static TernaryArgs For(byte* weights, int rows, int columns, float weightScale, Int8Activations a, int batch, float* y) => new()
    {
        Weights = weights,
        Rows = rows,
        Columns = columns,
        WeightScale = weightScale,
        Batch = batch,
        Q = a.Q.Pointer,
        QInterleaved = a.QInterleaved.Pointer,
        Stride = a.Stride,
        ActScale = a.Scale.Pointer,
        RowSum = a.RowSum.Pointer,
        BlockSum = a.BlockSum.Pointer,
        Blocks = a.Blocks,
        Y = y,
    };
}
