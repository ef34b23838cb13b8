using System.Buffers.Binary;
using WrinkleFree.Inference.Gguf;

namespace WrinkleFree.Inference.Tensors.Formats;

/// <summary>
/// Scalar reference conversions between ggml tensor formats and f32, following llama.cpp's reference quantizers.
/// Meant for load time, tests and tools; the matmul kernels read the packed formats directly.
/// </summary>
public static class TensorCodec
{
    /// <summary>
    /// Decodes <paramref name="dst"/>.Length values of <paramref name="type"/> from <paramref name="src"/>, which must hold
    /// exactly those whole blocks. Supports F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K, TQ1_0, TQ2_0.
    /// </summary>
    public static void Dequantize(GgmlType type, ReadOnlySpan<byte> src, Span<float> dst)
    {
        if (type == GgmlType.I2_S)
        {
            throw new ArgumentException(
                "I2_S keeps one scale per tensor after the packed codes; use TensorCodec.DequantizeI2S with the scale from ReadI2SScale",
                nameof(type));
        }

        CheckSizes(type, src.Length, dst.Length, nameof(src));
        switch (type)
        {
            case GgmlType.F32: FloatCodec.DequantizeF32(src, dst); break;
            case GgmlType.F16: FloatCodec.DequantizeF16(src, dst); break;
            case GgmlType.BF16: FloatCodec.DequantizeBF16(src, dst); break;
            case GgmlType.Q4_0: LegacyQuantCodec.DequantizeQ4_0(src, dst); break;
            case GgmlType.Q4_1: LegacyQuantCodec.DequantizeQ4_1(src, dst); break;
            case GgmlType.Q5_0: LegacyQuantCodec.DequantizeQ5_0(src, dst); break;
            case GgmlType.Q5_1: LegacyQuantCodec.DequantizeQ5_1(src, dst); break;
            case GgmlType.Q8_0: LegacyQuantCodec.DequantizeQ8_0(src, dst); break;
            case GgmlType.Q4_K: KQuantCodec.DequantizeQ4_K(src, dst); break;
            case GgmlType.Q5_K: KQuantCodec.DequantizeQ5_K(src, dst); break;
            case GgmlType.Q6_K: Q6KCodec.Dequantize(src, dst); break;
            case GgmlType.TQ1_0: DequantizeTernary(src, dst, Tq1Layout.Bytes, Tq1Layout.Unpack); break;
            case GgmlType.TQ2_0: DequantizeTernary(src, dst, Tq2Layout.Bytes, Tq2Layout.Unpack); break;
            default: throw new NotSupportedException($"dequantizing {type} is not supported");
        }
    }

    /// <summary>
    /// Encodes <paramref name="src"/> as <paramref name="type"/> into <paramref name="dst"/>, which must be exactly the
    /// type's size for that many values. Supports F32, F16, BF16, Q8_0, Q6_K, TQ1_0, TQ2_0 (TQ: d = block absmax,
    /// value = round(x/d) clamped to [−1, 1]; Q8_0: d = absmax/127).
    /// </summary>
    public static void Quantize(GgmlType type, ReadOnlySpan<float> src, Span<byte> dst)
    {
        if (type == GgmlType.I2_S)
        {
            throw new ArgumentException("I2_S needs the whole tensor for its single scale; use TensorCodec.QuantizeI2S", nameof(type));
        }

        CheckSizes(type, dst.Length, src.Length, nameof(dst));
        switch (type)
        {
            case GgmlType.F32: FloatCodec.QuantizeF32(src, dst); break;
            case GgmlType.F16: FloatCodec.QuantizeF16(src, dst); break;
            case GgmlType.BF16: FloatCodec.QuantizeBF16(src, dst); break;
            case GgmlType.Q8_0: LegacyQuantCodec.QuantizeQ8_0(src, dst); break;
            case GgmlType.Q6_K: Q6KCodec.Quantize(src, dst); break;
            case GgmlType.TQ1_0: QuantizeTernary(src, dst, Tq1Layout.Bytes, Tq1Layout.Pack); break;
            case GgmlType.TQ2_0: QuantizeTernary(src, dst, Tq2Layout.Bytes, Tq2Layout.Pack); break;
            default: throw new NotSupportedException($"quantizing to {type} is not supported");
        }
    }

    /// <summary>
    /// Decodes I2_S codes (<paramref name="packed"/> = <paramref name="dst"/>.Length / 4 bytes, no trailer) as
    /// (code − 1) · <paramref name="scale"/>; the unused code 3 decodes to 2 · scale, as the matmul kernels treat it.
    /// </summary>
    public static void DequantizeI2S(ReadOnlySpan<byte> packed, float scale, Span<float> dst)
    {
        if (dst.Length % I2SLayout.BlockValues != 0)
        {
            throw new ArgumentException($"I2_S value count {dst.Length} is not a multiple of {I2SLayout.BlockValues}", nameof(dst));
        }

        if (packed.Length != dst.Length / 4)
        {
            throw new ArgumentException(
                $"I2_S needs {dst.Length / 4} packed bytes (without the scale trailer) for {dst.Length} values, got {packed.Length}",
                nameof(packed));
        }

        Span<sbyte> values = stackalloc sbyte[I2SLayout.BlockValues];
        for (var b = 0; b < dst.Length / I2SLayout.BlockValues; b++)
        {
            I2SLayout.Unpack(packed.Slice(b * 32, 32), values);
            var y = dst.Slice(b * I2SLayout.BlockValues, I2SLayout.BlockValues);
            for (var i = 0; i < values.Length; i++)
            {
                y[i] = values[i] * scale;
            }
        }
    }

    /// <summary>The f32 scale that follows the <paramref name="elements"/>/4 packed bytes of an I2_S tensor.</summary>
    public static float ReadI2SScale(ReadOnlySpan<byte> tensorBytes, long elements)
    {
        if (elements < 0 || elements % I2SLayout.BlockValues != 0)
        {
            throw new ArgumentException($"I2_S element count {elements} is not a multiple of {I2SLayout.BlockValues}", nameof(elements));
        }

        if (elements / 4 + 4 > tensorBytes.Length)
        {
            throw new ArgumentException(
                $"I2_S tensor of {elements} values has its scale at byte {elements / 4}, but only {tensorBytes.Length} bytes were given",
                nameof(tensorBytes));
        }

        return BinaryPrimitives.ReadSingleLittleEndian(tensorBytes[(int)(elements / 4)..]);
    }

    /// <summary>
    /// BitNet absmean quantization of a whole tensor: scale = mean|w|, code = clamp(round(w/scale), −1, 1).
    /// Returns the packed codes followed by the 32-byte trailer holding the f32 scale (GgmlTypeInfo.ByteSize bytes).
    /// </summary>
    public static byte[] QuantizeI2S(ReadOnlySpan<float> tensor)
    {
        if (tensor.Length % I2SLayout.BlockValues != 0)
        {
            throw new ArgumentException($"I2_S value count {tensor.Length} is not a multiple of {I2SLayout.BlockValues}", nameof(tensor));
        }

        // Summed in double so the scale of a multi-million-value tensor does not drift with summation order.
        double sum = 0;
        foreach (var w in tensor)
        {
            sum += MathF.Abs(w);
        }

        var scale = tensor.Length == 0 ? 0f : (float)(sum / tensor.Length);
        var inverse = scale > 0 ? 1f / scale : 0f;
        var trits = new sbyte[tensor.Length];
        for (var i = 0; i < tensor.Length; i++)
        {
            trits[i] = (sbyte)Math.Clamp(QuantMath.RoundAway(tensor[i] * inverse), -1, 1);
        }

        var result = new byte[tensor.Length / 4 + I2SLayout.TrailerBytes];
        I2SLayout.Pack(trits, result);
        BinaryPrimitives.WriteSingleLittleEndian(result.AsSpan(tensor.Length / 4), scale);
        return result;
    }

    private static void CheckSizes(GgmlType type, int byteCount, int valueCount, string byteParam)
    {
        var info = GgmlTypeInfo.Of(type) ?? throw new NotSupportedException($"ggml type {(uint)type} is unknown");
        if (valueCount % info.BlockSize != 0)
        {
            throw new ArgumentException($"{valueCount} values are not whole {type} blocks of {info.BlockSize}", byteParam);
        }

        var expected = info.ByteSize(valueCount);
        if (byteCount != expected)
        {
            throw new ArgumentException($"{valueCount} values of {type} take {expected} bytes, got {byteCount}", byteParam);
        }
    }

    private delegate Half UnpackBlock(ReadOnlySpan<byte> block, Span<sbyte> values);

    private delegate void PackBlock(ReadOnlySpan<sbyte> trits, Half d, Span<byte> block);

    private static void DequantizeTernary(ReadOnlySpan<byte> src, Span<float> dst, int blockBytes, UnpackBlock unpack)
    {
        Span<sbyte> values = stackalloc sbyte[256];
        for (var b = 0; b < dst.Length / 256; b++)
        {
            var d = (float)unpack(src.Slice(b * blockBytes, blockBytes), values);
            var y = dst.Slice(b * 256, 256);
            for (var i = 0; i < 256; i++)
            {
                y[i] = values[i] * d;
            }
        }
    }

    /// <summary>llama.cpp's TQ reference: d = block absmax (fp16), codes from the f32 reciprocal of the unrounded absmax.</summary>
    private static void QuantizeTernary(ReadOnlySpan<float> src, Span<byte> dst, int blockBytes, PackBlock pack)
    {
        Span<sbyte> trits = stackalloc sbyte[256];
        for (var b = 0; b < src.Length / 256; b++)
        {
            var x = src.Slice(b * 256, 256);
            var amax = 0f;
            foreach (var v in x)
            {
                amax = MathF.Max(amax, MathF.Abs(v));
            }

            var id = amax != 0 ? 1f / amax : 0f;
            for (var i = 0; i < 256; i++)
            {
                trits[i] = (sbyte)Math.Clamp(QuantMath.RoundAway(x[i] * id), -1, 1);
            }

            pack(trits, (Half)amax, dst.Slice(b * blockBytes, blockBytes));
        }
    }
}
