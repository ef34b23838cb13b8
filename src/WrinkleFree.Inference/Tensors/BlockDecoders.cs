using WrinkleFree.Inference.Gguf;
using System.Runtime.CompilerServices;

namespace WrinkleFree.Inference.Tensors;

/// <summary>Plain decoders of the weight layouts, value by value: the ground truth the kernels and GetRow build on.</summary>
internal static unsafe class BlockDecoders
{
    public const int TQ2BlockBytes = 66;
    public const int TQ1BlockBytes = 54;
    public const int Q8BlockBytes = 34;
    public const int Q6KBlockBytes = 210;

    private static ReadOnlySpan<byte> Pow3 => [1, 3, 9, 27, 81, 243];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Half(byte* p) => (float)BitConverter.UInt16BitsToHalf(Unsafe.ReadUnaligned<ushort>(p));

    /// <summary>
    /// Converts <paramref name="count"/> fp16 values found <paramref name="stride"/> bytes apart (the scales of a row's blocks)
    /// in one vectorized pass: scalar Half conversion per block costs as much as the block's dot product.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Halves(byte* first, int stride, int count, float* destination)
    {
        Span<ushort> bits = count <= 1024 ? stackalloc ushort[count] : new ushort[count];
        for (var k = 0; k < count; k++)
        {
            bits[k] = Unsafe.ReadUnaligned<ushort>(first + (long)k * stride);
        }

        System.Numerics.Tensors.TensorPrimitives.ConvertToSingle(
            System.Runtime.InteropServices.MemoryMarshal.Cast<ushort, Half>(bits), new Span<float>(destination, count));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float BFloat16(ushort bits) => BitConverter.Int32BitsToSingle(bits << 16);

    /// <summary>Code (trit+1, 0..2) of value <paramref name="i"/> of an I2_S row: byte j of a 128-block holds j, j+32, j+64, j+96 high bits first.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int I2SCode(byte* row, int i)
    {
        var within = i & 127;
        return (row[((i >> 7) << 5) + (within & 31)] >> (6 - 2 * (within >> 5))) & 3;
    }

    /// <summary>Code of value <paramref name="p"/> (0..255) of a TQ2_0 block: byte m of a 128-chunk holds m + 32n at bit 2n.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int TQ2Code(byte* block, int p)
    {
        var within = p & 127;
        return (block[((p >> 7) << 5) + (within & 31)] >> (2 * (within >> 5))) & 3;
    }

    /// <summary>Code of value <paramref name="p"/> (0..255) of a TQ1_0 block (base-3 digits scaled to a byte, first digit on top).</summary>
    public static int TQ1Code(byte* block, int p)
    {
        int source;
        int digit;
        if (p < 160)
        {
            source = p & 31;
            digit = p >> 5;
        }
        else if (p < 240)
        {
            source = 32 + ((p - 160) & 15);
            digit = (p - 160) >> 4;
        }
        else
        {
            source = 48 + ((p - 240) & 3);
            digit = (p - 240) >> 2;
        }

        var shifted = (byte)(block[source] * Pow3[digit]);
        return (shifted * 3) >> 8;
    }

    /// <summary>
    /// One dequantized row (embedding lookup, norm vectors, scalar references). The load-time codecs in
    /// <see cref="Formats.TensorCodec"/> own the block layouts; this only turns the row pointer into a span.
    /// </summary>
    public static void DecodeRow(GgmlType type, byte* row, int columns, float tensorScale, Span<float> destination)
    {
        var info = GgmlTypeInfo.Of(type) ?? throw new NotSupportedException($"tensor type {type} has no decoder");
        var bytes = new ReadOnlySpan<byte>(row, checked((int)info.RowBytes(columns)));
        var values = destination[..columns];
        if (type == GgmlType.I2_S)
        {
            Formats.TensorCodec.DequantizeI2S(bytes, tensorScale, values);
        }
        else
        {
            Formats.TensorCodec.Dequantize(type, bytes, values);
        }
    }
}
