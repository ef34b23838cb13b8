using System.Buffers.Binary;

namespace WrinkleFree.Inference.Tensors.Formats;

/// <summary>F32, F16 and BF16 element conversions (little-endian, one value per element).</summary>
internal static class FloatCodec
{
    public static void DequantizeF32(ReadOnlySpan<byte> src, Span<float> dst)
    {
        for (var i = 0; i < dst.Length; i++)
        {
            dst[i] = BinaryPrimitives.ReadSingleLittleEndian(src[(4 * i)..]);
        }
    }

    public static void QuantizeF32(ReadOnlySpan<float> src, Span<byte> dst)
    {
        for (var i = 0; i < src.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(dst[(4 * i)..], src[i]);
        }
    }

    public static void DequantizeF16(ReadOnlySpan<byte> src, Span<float> dst)
    {
        for (var i = 0; i < dst.Length; i++)
        {
            dst[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(src[(2 * i)..]);
        }
    }

    /// <summary>Round-to-nearest-even, as ggml's fp32→fp16 conversion does.</summary>
    public static void QuantizeF16(ReadOnlySpan<float> src, Span<byte> dst)
    {
        for (var i = 0; i < src.Length; i++)
        {
            BinaryPrimitives.WriteHalfLittleEndian(dst[(2 * i)..], (Half)src[i]);
        }
    }

    public static void DequantizeBF16(ReadOnlySpan<byte> src, Span<float> dst)
    {
        for (var i = 0; i < dst.Length; i++)
        {
            var bits = (uint)BinaryPrimitives.ReadUInt16LittleEndian(src[(2 * i)..]) << 16;
            dst[i] = BitConverter.UInt32BitsToSingle(bits);
        }
    }

    public static void QuantizeBF16(ReadOnlySpan<float> src, Span<byte> dst)
    {
        for (var i = 0; i < src.Length; i++)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(dst[(2 * i)..], ToBF16(src[i]));
        }
    }

    /// <summary>ggml's conversion: round to nearest even on the dropped 16 bits, and keep NaNs quiet rather than letting them round to infinity.</summary>
    public static ushort ToBF16(float value)
    {
        var u = BitConverter.SingleToUInt32Bits(value);
        if ((u & 0x7fffffff) > 0x7f800000)
        {
            return (ushort)((u >> 16) | 64);
        }

        return (ushort)((u + (0x7fff + ((u >> 16) & 1))) >> 16);
    }
}
