using System.Buffers.Binary;

namespace WrinkleFree.Inference.Tensors.Formats;

/// <summary>
/// One TQ2_0 block: 256 values as 2-bit codes (value + 1) then an fp16 d. Within each 128-value chunk, byte m of the
/// chunk's 32 bytes holds values m, m+32, m+64, m+96 at bit offsets 0, 2, 4, 6.
/// </summary>
internal static class Tq2Layout
{
    public const int Values = 256;
    public const int Bytes = 66;

    public static void Pack(ReadOnlySpan<sbyte> trits, Half d, Span<byte> block)
    {
        block[..64].Clear();
        for (var v = 0; v < Values; v++)
        {
            var (index, shift) = Position(v);
            block[index] |= (byte)((trits[v] + 1) << shift);
        }

        BinaryPrimitives.WriteHalfLittleEndian(block[64..], d);
    }

    /// <summary>Writes code − 1 per value: −1, 0, 1, or 2 for the code 3 that no writer produces.</summary>
    public static Half Unpack(ReadOnlySpan<byte> block, Span<sbyte> values)
    {
        for (var v = 0; v < Values; v++)
        {
            var (index, shift) = Position(v);
            values[v] = (sbyte)(((block[index] >> shift) & 3) - 1);
        }

        return BinaryPrimitives.ReadHalfLittleEndian(block[64..]);
    }

    private static (int Index, int Shift) Position(int v) => (v / 128 * 32 + v % 32, v % 128 / 32 * 2);
}
