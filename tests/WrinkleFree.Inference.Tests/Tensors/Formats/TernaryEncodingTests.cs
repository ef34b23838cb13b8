using WrinkleFree.Inference.Gguf;
using WrinkleFree.Inference.Tensors.Formats;

namespace WrinkleFree.Inference.Tests.Tensors.Formats;

public sealed class TernaryEncodingTests
{
    private static readonly GgmlType[] Ternary = [GgmlType.I2_S, GgmlType.TQ2_0, GgmlType.TQ1_0];

    [Fact]
    public void Encode_SameTritsInAllThreeFormats_DequantizeToIdenticalFloats()
    {
        var trits = RandomTrits(4 * 256, seed: 11);
        const float scale = 0.0173f;  // not fp16-exact: Encode must round it the same way for all three
        var expectedScale = (float)(Half)scale;
        foreach (var type in Ternary)
        {
            var values = Dequantize(type, TernaryEncoding.Encode(type, trits, scale), trits.Length);
            for (var i = 0; i < trits.Length; i++)
            {
                Assert.Equal(BitConverter.SingleToInt32Bits(trits[i] * expectedScale), BitConverter.SingleToInt32Bits(values[i]));
            }
        }
    }

    [Theory]
    [InlineData(GgmlType.I2_S)]
    [InlineData(GgmlType.TQ2_0)]
    [InlineData(GgmlType.TQ1_0)]
    public void DecodeTrits_EncodedTensor_ReturnsTritsAndFp16Scale(GgmlType type)
    {
        var trits = RandomTrits(2 * 256, seed: 5);
        var decoded = TernaryEncoding.DecodeTrits(type, TernaryEncoding.Encode(type, trits, 1.7f), trits.Length, out var scale);
        Assert.Equal(trits, decoded);
        Assert.Equal((float)(Half)1.7f, scale);
    }

    [Theory]
    [InlineData(GgmlType.TQ2_0)]
    [InlineData(GgmlType.TQ1_0)]
    public void Quantize_TernaryValuedTensor_MatchesEncodeByteForByte(GgmlType type)
    {
        // With a ±1 in every block, llama.cpp's absmax d is the scale itself, so the quantizer and Encode must agree.
        var trits = RandomTrits(3 * 256, seed: 9);
        const float scale = 0.25f;
        var x = new float[trits.Length];
        for (var i = 0; i < x.Length; i++)
        {
            x[i] = trits[i] * scale;
        }

        var quantized = new byte[GgmlTypeInfo.Of(type)!.Value.ByteSize(x.Length)];
        TensorCodec.Quantize(type, x, quantized);
        Assert.Equal(TernaryEncoding.Encode(type, trits, scale), quantized);
    }

    [Fact]
    public void DecodeTrits_BlocksWithDifferentScales_Throws()
    {
        var x = TensorCodecRoundTripTests.RandomValues(512, seed: 1);
        var bytes = new byte[2 * 66];
        TensorCodec.Quantize(GgmlType.TQ2_0, x, bytes);
        var ex = Assert.Throws<ArgumentException>(() => TernaryEncoding.DecodeTrits(GgmlType.TQ2_0, bytes, 512, out _));
        Assert.Contains("block 1", ex.Message);
    }

    [Fact]
    public void DecodeTrits_Tq2Code3_ThrowsNamingValue()
    {
        var bytes = TernaryEncoding.Encode(GgmlType.TQ2_0, new sbyte[256], 1f);
        bytes[5] |= 0x03;  // value 5 gets code 3
        var ex = Assert.Throws<ArgumentException>(() => TernaryEncoding.DecodeTrits(GgmlType.TQ2_0, bytes, 256, out _));
        Assert.Contains("value 5", ex.Message);
    }

    [Fact]
    public void Encode_NonTrit_ThrowsNamingIndex()
    {
        var trits = new sbyte[128];
        trits[7] = 2;
        var ex = Assert.Throws<ArgumentException>(() => TernaryEncoding.Encode(GgmlType.I2_S, trits, 1f));
        Assert.Contains("value 7", ex.Message);
    }

    [Fact]
    public void Encode_ScaleBeyondFp16_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => TernaryEncoding.Encode(GgmlType.TQ1_0, new sbyte[256], 1e6f));
    }

    [Fact]
    public void Encode_NonTernaryType_Throws()
    {
        Assert.Throws<ArgumentException>(() => TernaryEncoding.Encode(GgmlType.Q8_0, new sbyte[256], 1f));
    }

    private static float[] Dequantize(GgmlType type, byte[] bytes, int count)
    {
        var values = new float[count];
        if (type == GgmlType.I2_S)
        {
            TensorCodec.DequantizeI2S(bytes.AsSpan(0, count / 4), TensorCodec.ReadI2SScale(bytes, count), values);
        }
        else
        {
            TensorCodec.Dequantize(type, bytes, values);
        }

        return values;
    }

    private static sbyte[] RandomTrits(int count, int seed)
    {
        var random = new Random(seed);
        var trits = new sbyte[count];
        for (var i = 0; i < count; i++)
        {
            trits[i] = (sbyte)(random.Next(3) - 1);
        }

        for (var b = 0; b < count; b += 256)
        {
            trits[b] = 1;  // every block holds a nonzero value, so its absmax is the scale
        }

        return trits;
    }
}
