using System.Buffers.Binary;

namespace WrinkleFree.Inference.Tensors.Formats;

/// <summary>
/// Upstream llama.cpp's Q2_0 (type 42), written from its format description: 64-value blocks of 18 bytes, the fp16
/// scale d first, then 16 bytes whose byte j / 4 holds value j in bits 2·(j mod 4) as code value + 1. Code 3 (+2·d) is
/// valid Q2_0 but not ternary.
/// </summary>
public static class Q20Layout
{
    public const int Values = 64;
    public const int Bytes = 18;

    public static void Pack(ReadOnlySpan<sbyte> trits, Half d, Span<byte> block)
    {
        BinaryPrimitives.WriteHalfLittleEndian(block, d);
        block[2..Bytes].Clear();
        for (var j = 0; j < Values; j++)
        {
            block[2 + j / 4] |= (byte)((trits[j] + 1) << (2 * (j % 4)));
        }
    }

    /// <summary>The scalar reference: writes code − 1 for each value (2 for code 3) and returns d.</summary>
    public static Half Unpack(ReadOnlySpan<byte> block, Span<sbyte> values)
    {
        for (var j = 0; j < Values; j++)
        {
            values[j] = (sbyte)(((block[2 + j / 4] >> (2 * (j % 4))) & 3) - 1);
        }

        return BinaryPrimitives.ReadHalfLittleEndian(block);
    }
}
