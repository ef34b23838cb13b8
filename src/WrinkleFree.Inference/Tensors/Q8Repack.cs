namespace WrinkleFree.Inference.Tensors;

/// <summary>
/// Load-time copy of a Q8_0 tensor for the AVX-512 kernels: each row's int8 values contiguous and 64-byte aligned (two
/// blocks per aligned 512-bit load, where the 34-byte blocks straddle cache lines and need two loads and an insert), and
/// the block scales as floats in their own array (no half-to-float pass over every row of every multiply). 36 bytes per
/// 32 values instead of 34; both arrays sit on transparent huge pages.
/// </summary>
internal sealed unsafe class Q8Repack : Q8Copy
{
    public Q8Repack(byte* q8, int rows, int columns)
        : base(columns, (long)rows * RowStrideOf(columns), (long)rows * (columns / 32), RowStrideOf(columns), rows)
    {
        var scales = (float*)Scales!.Pointer;
        for (long r = 0; r < rows; r++)
        {
            var source = q8 + r * Blocks * BlockDecoders.Q8BlockBytes;
            var destination = Quants.Pointer + r * Stride;
            for (var k = 0; k < Blocks; k++)
            {
                var block = source + k * BlockDecoders.Q8BlockBytes;
                scales[r * Blocks + k] = BlockDecoders.Half(block);
                Buffer.MemoryCopy(block + 2, destination + k * 32, 32, 32);
            }

            new Span<byte>(destination + columns, Stride - columns).Clear();
        }
    }

    /// <summary>Bytes from one row's values to the next's: the columns rounded up to 64 (scales: rows of Blocks floats).</summary>
    private static int RowStrideOf(int columns) => (columns + 63) & ~63;
}
