using System.Buffers.Binary;

namespace WrinkleFree.Inference.Tensors.Formats;

/// <summary>
/// One TQ1_0 block in llama.cpp's order: values 0–159 in qs[0..32) (byte m holds values m + 32n, n = 0..4), values
/// 160–239 in qs[32..48) (byte 32+m holds 160 + m + 16n), values 240–255 in qh[4] (byte j holds 240 + j + 4n, n = 0..3),
/// then fp16 d. Each byte is a base-3 number of codes (value + 1), trit n = 0 most significant, qh padded with a zero
/// fifth trit, stored as ceil(q · 256 / 243) so that a trit can be read with a multiply and a shift.
/// </summary>
internal static class Tq1Layout
{
    public const int Values = 256;
    public const int Bytes = 54;

    private static ReadOnlySpan<byte> Pow3 => [1, 3, 9, 27, 81];

    public static void Pack(ReadOnlySpan<sbyte> trits, Half d, Span<byte> block)
    {
        Span<int> sums = stackalloc int[52];
        for (var v = 0; v < Values; v++)
        {
            var (index, trit) = Position(v);
            sums[index] += (trits[v] + 1) * Pow3[4 - trit];
        }

        for (var i = 0; i < 52; i++)
        {
            block[i] = (byte)((sums[i] * 256 + 242) / 243);
        }

        BinaryPrimitives.WriteHalfLittleEndian(block[52..], d);
    }

    /// <summary>Writes the value (−1, 0 or 1) of each of the 256 positions and returns d.</summary>
    public static Half Unpack(ReadOnlySpan<byte> block, Span<sbyte> values)
    {
        for (var v = 0; v < Values; v++)
        {
            var (index, trit) = Position(v);
            // Multiplying by 3^n modulo 256 drops the n leading trits; the next one is then the top of q·3/256.
            var q = (byte)(block[index] * Pow3[trit]);
            values[v] = (sbyte)(((q * 3) >> 8) - 1);
        }

        return BinaryPrimitives.ReadHalfLittleEndian(block[52..]);
    }

    /// <summary>Byte index (qh bytes follow qs, at 48..51) and trit position (0 = most significant) of value <paramref name="v"/>.</summary>
    private static (int Index, int Trit) Position(int v) => v switch
    {
        < 160 => (v % 32, v / 32),
        < 240 => (32 + (v - 160) % 16, (v - 160) / 16),
        _ => (48 + (v - 240) % 4, (v - 240) / 4),
    };
}
