namespace WrinkleFree.Inference.Tensors.Kernels;

/// <summary>What a Q8_0 or float kernel reads and writes for one multiply.</summary>
internal unsafe struct DenseArgs
{
    public byte* Weights;

    /// <summary>Bytes from one work item's weights to the next's in a <see cref="Q8Interleaved"/> (a group of rows).</summary>
    public int WeightStride;
    public int Rows;
    public int Columns;
    public int Batch;

    /// <summary>Float activations, rows <see cref="Columns"/> apart.</summary>
    public float* X;

    /// <summary>Q8 activations (Q8_0 weights only), rows <see cref="Q8Stride"/> apart, one scale per 32 values.</summary>
    public sbyte* Q8;
    public float* Q8Scale;
    public int Q8Stride;
    public int Q8Blocks;

    /// <summary>−128·Σq per activation block (<see cref="Q8Activations.Sums"/>), for the <see cref="Q8Interleaved"/> kernel.</summary>
    public int* Q8Sums;

    /// <summary>Output, y[b·Rows + r].</summary>
    public float* Y;
}
