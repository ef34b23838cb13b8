namespace WrinkleFree.Inference.Tensors.Formats;

/// <summary>
/// bitnet.cpp's x86 I2_S packing: 128-value blocks of 32 bytes; byte j holds values j, j+32, j+64, j+96 in bits 7-6,
/// 5-4, 3-2, 1-0 as codes value + 1. The per-tensor scale trailer is handled by the callers.
/// </summary>
internal static class I2SLayout
{
    public const int BlockValues = 128;
    public const int TrailerBytes = 32;

    public static void Pack(ReadOnlySpan<sbyte> trits, Span<byte> packed)
    {
        packed[..(trits.Length / 4)].Clear();
        for (var v = 0; v < trits.Length; v++)
        {
            var (index, shift) = Position(v);
            packed[index] |= (byte)((trits[v] + 1) << shift);
        }
    }

    /// <summary>Writes code − 1 per value: −1, 0, 1, or 2 for the code 3 that no writer produces.</summary>
    public static void Unpack(ReadOnlySpan<byte> packed, Span<sbyte> values)
    {
        for (var v = 0; v < values.Length; v++)
        {
            var (index, shift) = Position(v);
            values[v] = (sbyte)(((packed[index] >> shift) & 3) - 1);
        }
    }

    private static (int Index, int Shift) Position(int v) => (v / 128 * 32 + v % 32, 6 - v % 128 / 32 * 2);
}
