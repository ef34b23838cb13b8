using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using WrinkleFree.Inference.Threading;

namespace WrinkleFree.Inference.Tensors;

/// <summary>
/// The BitNet per-token absmax int8 form of an <see cref="ActivationBatch"/> (q = round(x·127/max|x|)), in natural order and
/// in the 256-value interleaved order that matches one 64-byte load of packed ternary codes, plus the sums of q the
/// ternary kernels subtract (codes are trit+1).
/// </summary>
internal sealed unsafe class Int8Activations
{
    public Int8Activations(int maxBatch, int columns)
    {
        Columns = columns;
        Stride = (columns + 255) & ~255;
        Blocks = Stride / 256;
        Q = new PinnedBuffer<sbyte>(maxBatch * Stride);
        QInterleaved = new PinnedBuffer<sbyte>(maxBatch * Stride);
        Scale = new PinnedBuffer<float>(maxBatch);
        RowSum = new PinnedBuffer<int>(maxBatch);
        BlockSum = new PinnedBuffer<int>(maxBatch * Blocks);
    }

    public int Columns { get; }

    /// <summary>Distance between rows in <see cref="Q"/> and <see cref="QInterleaved"/>; a multiple of 256, zero padded.</summary>
    public int Stride { get; }

    /// <summary>Number of 256-value blocks per row (rounded up).</summary>
    public int Blocks { get; }

    public long Version { get; set; } = -1;

    public PinnedBuffer<sbyte> Q { get; }

    /// <summary>
    /// Per 256 values: [0,32) [128,160) [32,64) [160,192) [64,96) [192,224) [96,128) [224,256), the order in which shifting one
    /// 64-byte load of I2_S (two 128-blocks) or TQ2_0 (one block's qs) yields codes.
    /// </summary>
    public PinnedBuffer<sbyte> QInterleaved { get; }

    /// <summary>max|x|/127 per row: the factor that turns an integer dot product back into floats.</summary>
    public PinnedBuffer<float> Scale { get; }

    public PinnedBuffer<int> RowSum { get; }

    /// <summary>Sum of q over each 256-value block of each row (rows of <see cref="Blocks"/> entries).</summary>
    public PinnedBuffer<int> BlockSum { get; }

    /// <summary>Source index (within a 256 block) of interleaved position <paramref name="t"/>.</summary>
    public static int InterleavedSource(int t)
    {
        var segment = t >> 5;
        return ((segment >> 1) << 5) + ((segment & 1) << 7) + (t & 31);
    }

    private RowsWork? _rows;

    /// <summary>
    /// Quantizes <paramref name="batch"/> rows of <paramref name="x"/>; with a <paramref name="pool"/>, rows go to its
    /// threads (each row's values are the same either way).
    /// </summary>
    public void Quantize(float* x, int batch, WorkerPool? pool = null)
    {
        if (pool is null || batch < 2)
        {
            QuantizeRows(x, 0, batch);
            return;
        }

        var rows = _rows ??= new RowsWork(this);
        rows.X = x;
        pool.Run(rows, batch);
        rows.X = null;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void QuantizeRows(float* x, int start, int end)
    {
        for (var b = start; b < end; b++)
        {
            var q = Q.Pointer + (long)b * Stride;
            Scale.Pointer[b] = ActivationQuantizer.QuantizeRow(x + (long)b * Columns, Columns, q);
            new Span<sbyte>(q + Columns, Stride - Columns).Clear();
            var total = 0;
            for (var k = 0; k < Blocks; k++)
            {
                var s = ActivationQuantizer.Sum(q + k * 256, 256);
                BlockSum.Pointer[b * Blocks + k] = s;
                total += s;
            }

            RowSum.Pointer[b] = total;
            var qi = QInterleaved.Pointer + (long)b * Stride;
            for (var k = 0; k < Stride; k += 256)
            {
                for (var t = 0; t < 256; t += 32)
                {
                    Vector256.Load(q + k + InterleavedSource(t)).Store(qi + k + t);
                }
            }
        }
    }

    private sealed class RowsWork(Int8Activations owner) : IParallelWork
    {
        public float* X;

        public void Execute(int start, int end) => owner.QuantizeRows(X, start, end);
    }
}
