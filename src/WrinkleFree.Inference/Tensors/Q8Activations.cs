using System.Runtime.CompilerServices;
namespace WrinkleFree.Inference.Tensors;

/// <summary>
/// The Q8_0-style form of an <see cref="ActivationBatch"/>: one scale per 32 values (as llama.cpp pairs with Q8_0 weights),
/// which keeps the LM head as accurate as float activations would.
/// </summary>
internal sealed unsafe class Q8Activations
{
    public Q8Activations(int maxBatch, int columns)
    {
        Columns = columns;
        Blocks = (columns + 31) / 32;
        Stride = Blocks * 32;
        Q = new PinnedBuffer<sbyte>(maxBatch * Stride);
        Scale = new PinnedBuffer<float>(maxBatch * Blocks);
        Sums = new PinnedBuffer<int>(maxBatch * Blocks);
    }

    public int Columns { get; }

    public int Blocks { get; }

    public int Stride { get; }

    public long Version { get; set; } = -1;

    public PinnedBuffer<sbyte> Q { get; }

    /// <summary>max|x|/127 of each 32-value block, rows of <see cref="Blocks"/> entries.</summary>
    public PinnedBuffer<float> Scale { get; }

    /// <summary>
    /// −128·Σq of each 32-value block, rows of <see cref="Blocks"/> entries: the starting value of a block's vpdpbusd sum
    /// against weights stored as w + 128 (<see cref="Q8Interleaved"/>), which leaves exactly Σ w·q.
    /// </summary>
    public PinnedBuffer<int> Sums { get; }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Quantize(float* x, int batch)
    {
        for (var b = 0; b < batch; b++)
        {
            var row = x + (long)b * Columns;
            var q = Q.Pointer + (long)b * Stride;
            for (var k = 0; k < Blocks; k++)
            {
                var n = Math.Min(32, Columns - k * 32);
                Scale.Pointer[b * Blocks + k] = ActivationQuantizer.QuantizeRow(row + k * 32, n, q + k * 32);
                new Span<sbyte>(q + k * 32 + n, 32 - n).Clear();
                Sums.Pointer[b * Blocks + k] = -128 * ActivationQuantizer.Sum(q + k * 32, 32);
            }
        }
    }
}
