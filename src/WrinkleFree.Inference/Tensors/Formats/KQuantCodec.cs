using System.Buffers.Binary;

namespace WrinkleFree.Inference.Tensors.Formats;

/// <summary>Q4_K and Q5_K dequantization: 256-value super-blocks of eight 32-value sub-blocks with 6-bit scales and mins.</summary>
internal static class KQuantCodec
{
    private const int Values = 256;

    public static void DequantizeQ4_K(ReadOnlySpan<byte> src, Span<float> dst)
    {
        for (var b = 0; b < dst.Length / Values; b++)
        {
            var block = src.Slice(b * 144, 144);
            var d = (float)BinaryPrimitives.ReadHalfLittleEndian(block);
            var dmin = (float)BinaryPrimitives.ReadHalfLittleEndian(block[2..]);
            var scales = block.Slice(4, 12);
            var qs = block[16..];
            var y = dst.Slice(b * Values, Values);
            // Each 32 bytes of qs hold two sub-blocks: low nibbles the first, high nibbles the second.
            for (var pair = 0; pair < 4; pair++)
            {
                var (sc1, m1) = ScaleMin(2 * pair, scales);
                var (sc2, m2) = ScaleMin(2 * pair + 1, scales);
                for (var l = 0; l < 32; l++)
                {
                    var q = qs[pair * 32 + l];
                    y[pair * 64 + l] = d * sc1 * (q & 0xF) - dmin * m1;
                    y[pair * 64 + 32 + l] = d * sc2 * (q >> 4) - dmin * m2;
                }
            }
        }
    }

    public static void DequantizeQ5_K(ReadOnlySpan<byte> src, Span<float> dst)
    {
        for (var b = 0; b < dst.Length / Values; b++)
        {
            var block = src.Slice(b * 176, 176);
            var d = (float)BinaryPrimitives.ReadHalfLittleEndian(block);
            var dmin = (float)BinaryPrimitives.ReadHalfLittleEndian(block[2..]);
            var scales = block.Slice(4, 12);
            var qh = block.Slice(16, 32);
            var qs = block[48..];
            var y = dst.Slice(b * Values, Values);
            // As Q4_K, plus a fifth bit per value: sub-block s takes bit s of qh[l].
            for (var pair = 0; pair < 4; pair++)
            {
                var (sc1, m1) = ScaleMin(2 * pair, scales);
                var (sc2, m2) = ScaleMin(2 * pair + 1, scales);
                for (var l = 0; l < 32; l++)
                {
                    var q = qs[pair * 32 + l];
                    var hi1 = (qh[l] >> (2 * pair)) & 1;
                    var hi2 = (qh[l] >> (2 * pair + 1)) & 1;
                    y[pair * 64 + l] = d * sc1 * ((q & 0xF) | (hi1 << 4)) - dmin * m1;
                    y[pair * 64 + 32 + l] = d * sc2 * ((q >> 4) | (hi2 << 4)) - dmin * m2;
                }
            }
        }
    }

    /// <summary>Unpacks the 6-bit scale and min of sub-block <paramref name="j"/> from the 12-byte packed table.</summary>
    private static (int Scale, int Min) ScaleMin(int j, ReadOnlySpan<byte> q) => j < 4
        ? (q[j] & 63, q[j + 4] & 63)
        : ((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4), (q[j + 4] >> 4) | ((q[j] >> 6) << 4));
}
