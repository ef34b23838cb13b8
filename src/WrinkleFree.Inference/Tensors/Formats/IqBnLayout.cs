using System.Buffers.Binary;
using WrinkleFree.Inference.Gguf;

namespace WrinkleFree.Inference.Tensors.Formats;

/// <summary>
/// ik_llama.cpp's ternary rows (read from its format description in ggml-common.h and iqk_quantize.cpp, written fresh):
/// a row starts with its scale (IQ1_BN fp16, IQ2_BN f32) and continues in 64-value blocks of codes value + 1.
/// <list type="bullet">
/// <item>IQ2_BN, 16 bytes a block: byte j holds values j, j + 16, j + 32, j + 48 in bits 1-0, 3-2, 5-4, 7-6.</item>
/// <item>IQ1_BN, 13 bytes a block: four groups of 16 values; group g's first 15 values are three bytes (ql[3g + k] holds
/// values 5k .. 5k + 4 of the group) and its 16th is one base-3 digit of the last byte (extra). Each byte is a base-3
/// number whose digit n (weight 3^n) is value n, stored as ceil(q · 256 / 243) so that digit n reads back as
/// (3 · (byte · 3^(4 − n) mod 256)) >> 8.</item>
/// </list>
/// </summary>
public static class IqBnLayout
{
    public const int BlockValues = 64;

    private static ReadOnlySpan<byte> Pow3 => [1, 3, 9, 27, 81];

    /// <summary>Whether <paramref name="type"/> is one of the two layouts.</summary>
    public static bool Applies(GgmlType type) => type is GgmlType.IQ1_BN or GgmlType.IQ2_BN;

    /// <summary>Writes one row of <paramref name="trits"/> (a whole number of blocks) with <paramref name="scale"/> into <paramref name="row"/>.</summary>
    public static void EncodeRow(GgmlType type, ReadOnlySpan<sbyte> trits, float scale, Span<byte> row)
    {
        var blocks = Blocks(type, trits.Length, row.Length);
        if (type == GgmlType.IQ2_BN)
        {
            BinaryPrimitives.WriteSingleLittleEndian(row, scale);
            for (var b = 0; b < blocks; b++)
            {
                var values = trits.Slice(b * BlockValues, BlockValues);
                var block = row.Slice(4 + b * 16, 16);
                for (var j = 0; j < 16; j++)
                {
                    block[j] = (byte)((values[j] + 1) | ((values[j + 16] + 1) << 2) | ((values[j + 32] + 1) << 4) | ((values[j + 48] + 1) << 6));
                }
            }

            return;
        }

        BinaryPrimitives.WriteHalfLittleEndian(row, (Half)scale);
        for (var b = 0; b < blocks; b++)
        {
            var values = trits.Slice(b * BlockValues, BlockValues);
            var block = row.Slice(2 + b * 13, 13);
            var extra = 0;
            for (var g = 0; g < 4; g++)
            {
                for (var k = 0; k < 3; k++)
                {
                    var sum = 0;
                    for (var n = 0; n < 5; n++)
                    {
                        sum += (values[16 * g + 5 * k + n] + 1) * Pow3[n];
                    }

                    block[3 * g + k] = Ceil256(sum);
                }

                extra += (values[16 * g + 15] + 1) * Pow3[g];
            }

            block[12] = Ceil256(extra);
        }
    }

    /// <summary>The scalar reference: writes the row's values (−1, 0 or 1; IQ2_BN's unused code 3 reads as 2) and returns its scale.</summary>
    public static float DecodeRow(GgmlType type, ReadOnlySpan<byte> row, Span<sbyte> trits)
    {
        var blocks = Blocks(type, trits.Length, row.Length);
        if (type == GgmlType.IQ2_BN)
        {
            for (var b = 0; b < blocks; b++)
            {
                var block = row.Slice(4 + b * 16, 16);
                var values = trits.Slice(b * BlockValues, BlockValues);
                for (var j = 0; j < 16; j++)
                {
                    for (var n = 0; n < 4; n++)
                    {
                        values[j + 16 * n] = (sbyte)(((block[j] >> (2 * n)) & 3) - 1);
                    }
                }
            }

            return BinaryPrimitives.ReadSingleLittleEndian(row);
        }

        for (var b = 0; b < blocks; b++)
        {
            var block = row.Slice(2 + b * 13, 13);
            var values = trits.Slice(b * BlockValues, BlockValues);
            for (var g = 0; g < 4; g++)
            {
                for (var k = 0; k < 3; k++)
                {
                    for (var n = 0; n < 5; n++)
                    {
                        values[16 * g + 5 * k + n] = Digit(block[3 * g + k], n);
                    }
                }

                values[16 * g + 15] = Digit(block[12], g);
            }
        }

        return (float)BinaryPrimitives.ReadHalfLittleEndian(row);
    }

    // q ∈ [0, 243): the smallest byte whose multiples by 3^(4-n) land each digit in its third of 256.
    private static byte Ceil256(int q) => (byte)((q * 256 + 242) / 243);

    private static sbyte Digit(byte packed, int n)
    {
        var v = (byte)(packed * Pow3[4 - n]);
        return (sbyte)(((v + (v >> 1)) >> 7) - 1);
    }

    private static int Blocks(GgmlType type, int values, int rowBytes)
    {
        if (!Applies(type))
        {
            throw new ArgumentException($"{type} is not IQ1_BN or IQ2_BN", nameof(type));
        }

        if (values % BlockValues != 0)
        {
            throw new ArgumentException($"{values} values are not whole {type} blocks of {BlockValues}", nameof(values));
        }

        var expected = GgmlTypeInfo.Of(type)!.Value.RowBytes(values);
        if (rowBytes != expected)
        {
            throw new ArgumentException($"a {type} row of {values} values takes {expected} bytes, got {rowBytes}", nameof(rowBytes));
        }

        return values / BlockValues;
    }
}
