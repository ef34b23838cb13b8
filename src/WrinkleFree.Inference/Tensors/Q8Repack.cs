using WrinkleFree.Inference.Native;
using WrinkleFree.Inference.Tensors.Kernels;

namespace WrinkleFree.Inference.Tensors;

/// <summary>
/// Load-time copy of a Q8_0 tensor for the AVX-512 kernels: each row's int8 values contiguous and 64-byte aligned (two
/// blocks per aligned 512-bit load, where the 34-byte blocks straddle cache lines and need two loads and an insert), and
/// the block scales as floats in their own array (no half-to-float pass over every row of every multiply). 36 bytes per
/// 32 values instead of 34; both arrays sit on transparent huge pages.
/// </summary>
internal sealed unsafe class Q8Repack : IDisposable
{
    public Q8Repack(byte* q8, int rows, int columns)
    {
        ArgumentOutOfRangeException.ThrowIfNotEqual(columns % 32, 0, nameof(columns));
        Blocks = columns / 32;
        RowStride = (columns + 63) & ~63;
        Quants = new HugePageMemory((long)rows * RowStride);
        Scales = new HugePageMemory((long)rows * Blocks * sizeof(float));
        var scales = (float*)Scales.Pointer;
        for (long r = 0; r < rows; r++)
        {
            var source = q8 + r * Blocks * BlockDecoders.Q8BlockBytes;
            var destination = Quants.Pointer + r * RowStride;
            for (var k = 0; k < Blocks; k++)
            {
                var block = source + k * BlockDecoders.Q8BlockBytes;
                scales[r * Blocks + k] = BlockDecoders.Half(block);
                Buffer.MemoryCopy(block + 2, destination + k * 32, 32, 32);
            }

            new Span<byte>(destination + columns, RowStride - columns).Clear();
        }
    }

    /// <summary>32-value blocks per row.</summary>
    public int Blocks { get; }

    /// <summary>Bytes from one row's values to the next's (the columns rounded up to 64).</summary>
    public int RowStride { get; }

    public HugePageMemory Quants { get; }

    /// <summary>One float per block, rows of <see cref="Blocks"/>.</summary>
    public HugePageMemory Scales { get; }

    /// <summary>Points <paramref name="args"/> at this copy (what the AVX-512 Q8_0 kernels read).</summary>
    public void Apply(ref DenseArgs args)
    {
        args.Weights = Quants.Pointer;
        args.WeightScales = (float*)Scales.Pointer;
        args.WeightStride = RowStride;
    }

    public void Dispose()
    {
        Quants.Dispose();
        Scales.Dispose();
    }
}
