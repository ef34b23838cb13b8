using System.Buffers.Binary;

namespace WrinkleFree.Inference.Tensors.Formats;

/// <summary>The 32-value block formats: Q4_0, Q4_1, Q5_0, Q5_1 (dequantize only) and Q8_0 (both directions).</summary>
internal static class LegacyQuantCodec
{
    private const int Values = 32;

    public static void DequantizeQ8_0(ReadOnlySpan<byte> src, Span<float> dst)
    {
        for (var b = 0; b < dst.Length / Values; b++)
        {
            var block = src.Slice(b * 34, 34);
            var d = (float)BinaryPrimitives.ReadHalfLittleEndian(block);
            for (var i = 0; i < Values; i++)
            {
                dst[b * Values + i] = (sbyte)block[2 + i] * d;
            }
        }
    }

    /// <summary>llama.cpp's reference: d = absmax/127 stored as fp16, codes rounded with the unrounded f32 reciprocal.</summary>
    public static void QuantizeQ8_0(ReadOnlySpan<float> src, Span<byte> dst)
    {
        for (var b = 0; b < src.Length / Values; b++)
        {
            var x = src.Slice(b * Values, Values);
            var block = dst.Slice(b * 34, 34);
            var amax = 0f;
            foreach (var v in x)
            {
                amax = MathF.Max(amax, MathF.Abs(v));
            }

            var d = amax / 127f;
            var id = d != 0 ? 1f / d : 0f;
            BinaryPrimitives.WriteHalfLittleEndian(block, (Half)d);
            for (var i = 0; i < Values; i++)
            {
                block[2 + i] = (byte)(sbyte)QuantMath.RoundAway(x[i] * id);
            }
        }
    }

    public static void DequantizeQ4_0(ReadOnlySpan<byte> src, Span<float> dst)
    {
        for (var b = 0; b < dst.Length / Values; b++)
        {
            var block = src.Slice(b * 18, 18);
            var d = (float)BinaryPrimitives.ReadHalfLittleEndian(block);
            var qs = block[2..];
            var y = dst.Slice(b * Values, Values);
            for (var j = 0; j < 16; j++)
            {
                y[j] = ((qs[j] & 0xF) - 8) * d;
                y[j + 16] = ((qs[j] >> 4) - 8) * d;
            }
        }
    }

    public static void DequantizeQ4_1(ReadOnlySpan<byte> src, Span<float> dst)
    {
        for (var b = 0; b < dst.Length / Values; b++)
        {
            var block = src.Slice(b * 20, 20);
            var d = (float)BinaryPrimitives.ReadHalfLittleEndian(block);
            var m = (float)BinaryPrimitives.ReadHalfLittleEndian(block[2..]);
            var qs = block[4..];
            var y = dst.Slice(b * Values, Values);
            for (var j = 0; j < 16; j++)
            {
                y[j] = (qs[j] & 0xF) * d + m;
                y[j + 16] = (qs[j] >> 4) * d + m;
            }
        }
    }

    public static void DequantizeQ5_0(ReadOnlySpan<byte> src, Span<float> dst)
    {
        for (var b = 0; b < dst.Length / Values; b++)
        {
            var block = src.Slice(b * 22, 22);
            var d = (float)BinaryPrimitives.ReadHalfLittleEndian(block);
            var qh = BinaryPrimitives.ReadUInt32LittleEndian(block[2..]);
            var qs = block[6..];
            var y = dst.Slice(b * Values, Values);
            for (var j = 0; j < 16; j++)
            {
                y[j] = (FifthBitLow(qs[j], qh, j) - 16) * d;
                y[j + 16] = (FifthBitHigh(qs[j], qh, j) - 16) * d;
            }
        }
    }

    public static void DequantizeQ5_1(ReadOnlySpan<byte> src, Span<float> dst)
    {
        for (var b = 0; b < dst.Length / Values; b++)
        {
            var block = src.Slice(b * 24, 24);
            var d = (float)BinaryPrimitives.ReadHalfLittleEndian(block);
            var m = (float)BinaryPrimitives.ReadHalfLittleEndian(block[2..]);
            var qh = BinaryPrimitives.ReadUInt32LittleEndian(block[4..]);
            var qs = block[8..];
            var y = dst.Slice(b * Values, Values);
            for (var j = 0; j < 16; j++)
            {
                y[j] = FifthBitLow(qs[j], qh, j) * d + m;
                y[j + 16] = FifthBitHigh(qs[j], qh, j) * d + m;
            }
        }
    }

    // Bit j of qh is the fifth bit of value j; bit j+16 that of value j+16.
    private static int FifthBitLow(byte q, uint qh, int j) => (q & 0xF) | (int)(((qh >> j) & 1) << 4);

    private static int FifthBitHigh(byte q, uint qh, int j) => (q >> 4) | (int)(((qh >> (j + 16)) & 1) << 4);
}
