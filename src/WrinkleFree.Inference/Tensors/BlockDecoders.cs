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

    public static void DecodeRow(GgmlType type, byte* row, int columns, float tensorScale, Span<float> destination)
    {
        switch (type)
        {
            case GgmlType.F32:
                new ReadOnlySpan<float>(row, columns).CopyTo(destination);
                break;
            case GgmlType.F16:
                for (var i = 0; i < columns; i++)
                {
                    destination[i] = Half(row + 2 * i);
                }

                break;
            case GgmlType.BF16:
                for (var i = 0; i < columns; i++)
                {
                    destination[i] = BFloat16(Unsafe.ReadUnaligned<ushort>(row + 2 * i));
                }

                break;
            case GgmlType.I2_S:
                for (var i = 0; i < columns; i++)
                {
                    destination[i] = (I2SCode(row, i) - 1) * tensorScale;
                }

                break;
            case GgmlType.TQ2_0:
                for (var k = 0; k < columns / 256; k++)
                {
                    var block = row + k * TQ2BlockBytes;
                    var d = Half(block + 64);
                    for (var p = 0; p < 256; p++)
                    {
                        destination[k * 256 + p] = (TQ2Code(block, p) - 1) * d;
                    }
                }

                break;
            case GgmlType.TQ1_0:
                for (var k = 0; k < columns / 256; k++)
                {
                    var block = row + k * TQ1BlockBytes;
                    var d = Half(block + 52);
                    for (var p = 0; p < 256; p++)
                    {
                        destination[k * 256 + p] = (TQ1Code(block, p) - 1) * d;
                    }
                }

                break;
            case GgmlType.Q8_0:
                for (var k = 0; k < columns / 32; k++)
                {
                    var block = row + k * Q8BlockBytes;
                    var d = Half(block);
                    for (var j = 0; j < 32; j++)
                    {
                        destination[k * 32 + j] = ((sbyte)block[2 + j]) * d;
                    }
                }

                break;
            case GgmlType.Q6_K:
                for (var k = 0; k < columns / 256; k++)
                {
                    DecodeQ6K(row + k * Q6KBlockBytes, destination.Slice(k * 256, 256));
                }

                break;
            default:
                throw new NotSupportedException($"tensor type {type} has no decoder");
        }
    }

    /// <summary>Q6_K: ql[128] low nibbles, qh[64] high 2 bits, 16 int8 sub-block scales, fp16 d; values are 6-bit minus 32.</summary>
    private static void DecodeQ6K(byte* block, Span<float> y)
    {
        var ql = block;
        var qh = block + 128;
        var sc = (sbyte*)(block + 192);
        var d = Half(block + 208);
        for (var half = 0; half < 2; half++)
        {
            var o = half * 128;
            for (var l = 0; l < 32; l++)
            {
                var s = l / 16;
                var q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
                var q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
                var q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                var q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                y[o + l] = d * sc[s] * q1;
                y[o + l + 32] = d * sc[s + 2] * q2;
                y[o + l + 64] = d * sc[s + 4] * q3;
                y[o + l + 96] = d * sc[s + 6] * q4;
            }

            ql += 64;
            qh += 32;
            sc += 8;
        }
    }
}
