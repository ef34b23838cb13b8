using System.Buffers.Binary;

namespace WrinkleFree.Inference.Tensors.Formats;

/// <summary>
/// Q6_K: 256-value super-blocks of sixteen 16-value sub-blocks; 6-bit codes (ql[128] low nibbles, qh[64] top two bits),
/// int8 sub-block scales[16], fp16 d. Value v is d · scales[v/16] · (code − 32).
/// </summary>
internal static class Q6KCodec
{
    private const int Values = 256;
    private const int Bytes = 210;

    public static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst)
    {
        for (var b = 0; b < dst.Length / Values; b++)
        {
            var block = src.Slice(b * Bytes, Bytes);
            var d = (float)BinaryPrimitives.ReadHalfLittleEndian(block[208..]);
            var y = dst.Slice(b * Values, Values);
            for (var v = 0; v < Values; v++)
            {
                y[v] = d * (sbyte)block[192 + v / 16] * (Code(block, v) - 32);
            }
        }
    }

    /// <summary>
    /// llama.cpp's reference quantizer: per sub-block a scale chosen by a small search that maximises the x²-weighted fit,
    /// then the sub-block scales themselves quantized to int8 against the largest one.
    /// </summary>
    public static void Quantize(ReadOnlySpan<float> src, Span<byte> dst)
    {
        Span<sbyte> codes = stackalloc sbyte[Values];
        Span<float> scales = stackalloc float[16];
        for (var b = 0; b < src.Length / Values; b++)
        {
            var x = src.Slice(b * Values, Values);
            var block = dst.Slice(b * Bytes, Bytes);
            block.Clear();
            var maxScale = 0f;
            var maxAbsScale = 0f;
            for (var s = 0; s < 16; s++)
            {
                scales[s] = SubBlockScale(x.Slice(16 * s, 16));
                if (MathF.Abs(scales[s]) > maxAbsScale)
                {
                    maxAbsScale = MathF.Abs(scales[s]);
                    maxScale = scales[s];
                }
            }

            if (maxAbsScale < 1e-15f)
            {
                continue;
            }

            var iscale = -128f / maxScale;
            var d = (Half)(1 / iscale);
            BinaryPrimitives.WriteHalfLittleEndian(block[208..], d);
            codes.Clear();
            for (var s = 0; s < 16; s++)
            {
                var sc = (sbyte)Math.Min(127, QuantMath.RoundAway(iscale * scales[s]));
                block[192 + s] = (byte)sc;
                var ds = (float)d * sc;
                if (ds == 0)
                {
                    continue;
                }

                for (var i = 0; i < 16; i++)
                {
                    codes[16 * s + i] = (sbyte)Math.Clamp(QuantMath.RoundAway(x[16 * s + i] / ds), -32, 31);
                }
            }

            for (var v = 0; v < Values; v++)
            {
                SetCode(block, v, codes[v] + 32);
            }
        }
    }

    /// <summary>
    /// Within each 128-value half, ql byte l (and l+32) holds values l and l+64 (l+32 and l+96) in its low and high nibble;
    /// qh byte l holds the top two bits of values l, l+32, l+64, l+96 at bit offsets 0, 2, 4, 6.
    /// </summary>
    private static int Code(ReadOnlySpan<byte> block, int v)
    {
        var (qlIndex, qlShift, qhIndex, qhShift) = Position(v);
        return ((block[qlIndex] >> qlShift) & 0xF) | (((block[qhIndex] >> qhShift) & 3) << 4);
    }

    private static void SetCode(Span<byte> block, int v, int code)
    {
        var (qlIndex, qlShift, qhIndex, qhShift) = Position(v);
        block[qlIndex] |= (byte)((code & 0xF) << qlShift);
        block[qhIndex] |= (byte)((code >> 4) << qhShift);
    }

    private static (int QlIndex, int QlShift, int QhIndex, int QhShift) Position(int v)
    {
        var half = v / 128;
        var group = v % 128 / 32;
        var l = v % 32;
        return (half * 64 + (group & 1) * 32 + l, (group >> 1) * 4, 128 + half * 32 + l, group * 2);
    }

    /// <summary>
    /// Symmetric 6-bit fit of 16 values (codes −32..31) weighted by x²: start from −32/max, try 18 nearby reciprocals and
    /// keep the least-squares scale of the best one. Returns the signed scale (negative when the largest value is negative).
    /// </summary>
    private static float SubBlockScale(ReadOnlySpan<float> x)
    {
        const int nmax = 32;
        var max = 0f;
        var amax = 0f;
        foreach (var v in x)
        {
            if (MathF.Abs(v) > amax)
            {
                amax = MathF.Abs(v);
                max = v;
            }
        }

        if (amax < 1e-15f)
        {
            return 0;
        }

        var (scale, best) = Fit(x, -nmax / max);
        for (var step = -9; step <= 9; step++)
        {
            if (step == 0)
            {
                continue;
            }

            var (s, score) = Fit(x, -(nmax + 0.1f * step) / max);
            if (score > best)
            {
                (scale, best) = (s, score);
            }
        }

        return scale;
    }

    /// <summary>Least-squares scale for the codes <paramref name="iscale"/> gives, and its fit score (sumlx²/suml2).</summary>
    private static (float Scale, float Score) Fit(ReadOnlySpan<float> x, float iscale)
    {
        float sumlx = 0, suml2 = 0;
        foreach (var v in x)
        {
            var l = Math.Clamp(QuantMath.RoundAway(iscale * v), -32, 31);
            var w = v * v;
            sumlx += w * v * l;
            suml2 += w * l * l;
        }

        return suml2 > 0 ? (sumlx / suml2, sumlx * sumlx / suml2) : (0, 0);
    }
}
