using WrinkleFree.Inference.Gguf;
using WrinkleFree.Inference.Tensors.Formats;

namespace WrinkleFree.Inference.Tests.Tensors.Formats;

public sealed class TensorCodecRoundTripTests
{
    private const int Count = 1024;

    [Theory]
    [InlineData(GgmlType.F32)]
    [InlineData(GgmlType.F16)]
    [InlineData(GgmlType.BF16)]
    [InlineData(GgmlType.Q8_0)]
    [InlineData(GgmlType.Q6_K)]
    [InlineData(GgmlType.TQ1_0)]
    [InlineData(GgmlType.TQ2_0)]
    public void QuantizeThenDequantize_RandomData_StaysWithinTypeErrorBound(GgmlType type)
    {
        var x = RandomValues(Count, seed: (int)type);
        var back = RoundTrip(type, x);
        var blockSize = GgmlTypeInfo.Of(type)!.Value.BlockSize;
        for (var i = 0; i < Count; i++)
        {
            var bound = Bound(type, x[i], BlockAbsMax(x, i, Math.Max(blockSize, 1)));
            Assert.True(MathF.Abs(back[i] - x[i]) <= bound, $"{type} value {i}: {x[i]} came back as {back[i]} (bound {bound})");
        }
    }

    [Theory]
    [InlineData(GgmlType.TQ1_0)]
    [InlineData(GgmlType.TQ2_0)]
    public void QuantizeTernary_RandomData_GivesRoundedTritsTimesFp16Absmax(GgmlType type)
    {
        var x = RandomValues(Count, seed: 7);
        var back = RoundTrip(type, x);
        for (var i = 0; i < Count; i++)
        {
            var amax = BlockAbsMax(x, i, 256);
            var trit = Math.Clamp(MathF.Round(x[i] * (1f / amax), MidpointRounding.AwayFromZero), -1, 1);
            Assert.Equal(trit * (float)(Half)amax, back[i]);
        }
    }

    [Fact]
    public void QuantizeQ8_0_ZeroBlock_DecodesToZeros()
    {
        var back = RoundTrip(GgmlType.Q8_0, new float[64]);
        Assert.All(back, v => Assert.Equal(0f, v));
    }

    [Fact]
    public void QuantizeI2S_RandomData_StoresAbsMeanScaleAndRoundedCodes()
    {
        var x = RandomValues(512, seed: 3);
        var bytes = TensorCodec.QuantizeI2S(x);
        Assert.Equal(GgmlTypeInfo.Of(GgmlType.I2_S)!.Value.ByteSize(x.Length), bytes.Length);

        double sum = 0;
        foreach (var v in x)
        {
            sum += MathF.Abs(v);
        }

        var scale = TensorCodec.ReadI2SScale(bytes, x.Length);
        Assert.Equal((float)(sum / x.Length), scale);

        var back = new float[x.Length];
        TensorCodec.DequantizeI2S(bytes.AsSpan(0, x.Length / 4), scale, back);
        for (var i = 0; i < x.Length; i++)
        {
            var code = Math.Clamp(MathF.Round(x[i] / scale, MidpointRounding.AwayFromZero), -1, 1);
            Assert.Equal(code * scale, back[i]);
        }
    }

    [Fact]
    public void Dequantize_WrongByteCount_ThrowsNamingSizes()
    {
        var ex = Assert.Throws<ArgumentException>(() => TensorCodec.Dequantize(GgmlType.Q8_0, new byte[33], new float[32]));
        Assert.Contains("34 bytes, got 33", ex.Message);
    }

    [Fact]
    public void Dequantize_PartialBlock_ThrowsNamingBlockSize()
    {
        var ex = Assert.Throws<ArgumentException>(() => TensorCodec.Dequantize(GgmlType.TQ2_0, new byte[66], new float[200]));
        Assert.Contains("blocks of 256", ex.Message);
    }

    [Fact]
    public void Quantize_WrongByteCount_Throws()
    {
        var ex = Assert.Throws<ArgumentException>(() => TensorCodec.Quantize(GgmlType.F16, new float[4], new byte[4]));
        Assert.Contains("8 bytes, got 4", ex.Message);
    }

    [Fact]
    public void Dequantize_I2S_PointsToDequantizeI2S()
    {
        var ex = Assert.Throws<ArgumentException>(() => TensorCodec.Dequantize(GgmlType.I2_S, new byte[64], new float[128]));
        Assert.Contains("DequantizeI2S", ex.Message);
    }

    [Fact]
    public void Quantize_I2S_PointsToQuantizeI2S()
    {
        var ex = Assert.Throws<ArgumentException>(() => TensorCodec.Quantize(GgmlType.I2_S, new float[128], new byte[64]));
        Assert.Contains("QuantizeI2S", ex.Message);
    }

    [Fact]
    public void DequantizeI2S_PackedIncludesTrailer_Throws()
    {
        var ex = Assert.Throws<ArgumentException>(() => TensorCodec.DequantizeI2S(new byte[64], 1f, new float[128]));
        Assert.Contains("32 packed bytes", ex.Message);
    }

    [Fact]
    public void ReadI2SScale_ShortTensor_Throws()
    {
        Assert.Throws<ArgumentException>(() => TensorCodec.ReadI2SScale(new byte[34], 128));
    }

    [Fact]
    public void QuantizeBF16_HalfwayValue_RoundsToEven()
    {
        // 1 + 2^-8 lies halfway between the bf16 values 1 and 1 + 2^-7; ties go to the even mantissa (1).
        var back = RoundTrip(GgmlType.BF16, [1f + 1f / 256, 1f + 3f / 256]);
        Assert.Equal(1f, back[0]);
        Assert.Equal(1f + 4f / 256, back[1]);
    }

    internal static float[] RandomValues(int count, int seed)
    {
        var random = new Random(seed);
        var x = new float[count];
        for (var i = 0; i < count; i++)
        {
            // Mix of scales so some blocks are small and some large, as real weight tensors are.
            x[i] = (float)((random.NextDouble() * 2 - 1) * (i / 256 % 2 == 0 ? 0.05 : 3.0));
        }

        return x;
    }

    private static float[] RoundTrip(GgmlType type, float[] x)
    {
        var bytes = new byte[GgmlTypeInfo.Of(type)!.Value.ByteSize(x.Length)];
        TensorCodec.Quantize(type, x, bytes);
        var back = new float[x.Length];
        TensorCodec.Dequantize(type, bytes, back);
        return back;
    }

    private static float BlockAbsMax(float[] x, int index, int blockSize)
    {
        var start = index / blockSize * blockSize;
        var amax = 0f;
        for (var i = start; i < start + blockSize; i++)
        {
            amax = MathF.Max(amax, MathF.Abs(x[i]));
        }

        return amax;
    }

    private static float Bound(GgmlType type, float value, float amax) => type switch
    {
        GgmlType.F32 => 0,
        GgmlType.F16 => MathF.Abs(value) * MathF.Pow(2, -11) + 6e-8f,
        GgmlType.BF16 => MathF.Abs(value) * MathF.Pow(2, -8),
        // Half a step of amax/127, plus the fp16 rounding of d spread over at most 127 steps.
        GgmlType.Q8_0 => amax / 127 * 0.5f + amax * MathF.Pow(2, -11) * 1.01f,
        // 6-bit codes with an 8-bit scale per 16 values: a step is at most about amax/31.
        GgmlType.Q6_K => amax / 31,
        // Ternary: the error is at most half the block absmax (plus the fp16 rounding of d).
        _ => amax * (0.5f + MathF.Pow(2, -10)),
    };
}
