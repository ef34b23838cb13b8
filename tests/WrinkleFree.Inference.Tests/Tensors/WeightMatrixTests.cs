using WrinkleFree.Inference.Gguf;
using WrinkleFree.Inference.Tensors;
using WrinkleFree.Inference.Threading;

namespace WrinkleFree.Inference.Tests.Tensors;

public sealed class WeightMatrixTests
{
    public static TheoryData<GgmlType> AllTypes => new()
    {
        GgmlType.I2_S, GgmlType.TQ2_0, GgmlType.TQ1_0, GgmlType.Q8_0, GgmlType.F16, GgmlType.BF16, GgmlType.F32, GgmlType.Q6_K,
        GgmlType.IQ2_BN, GgmlType.IQ1_BN, GgmlType.Q2_0,
    };

    [Theory]
    [MemberData(nameof(AllTypes))]
    public void GetRow_EachType_ReturnsEncodedValues(GgmlType type)
    {
        var w = TestWeights.Random(type, 5, 512, seed: 3);
        var m = WeightMatrix.Create(type, w.Address, w.Rows, w.Columns, "w");
        Assert.Equal(w.ByteLength, m.ByteSize);
        var row = new float[512];
        for (var r = 0; r < 5; r++)
        {
            m.GetRow(r, row);
            Assert.Equal(w.Dense.AsSpan(r * 512, 512).ToArray(), row);
        }
    }

    [Theory]
    [MemberData(nameof(AllTypes))]
    public void Multiply_EachType_MatchesDenseProductOfQuantizedInput(GgmlType type)
    {
        const int rows = 37;
        const int columns = 768;
        var w = TestWeights.Random(type, rows, columns, seed: 11);
        var m = WeightMatrix.Create(type, w.Address, rows, columns, "w");
        var x = RandomBatch(3, columns, seed: 12);
        var y = new float[3 * rows];
        using var pool = new WorkerPool(2);
        m.Multiply(x, y, pool);

        for (var b = 0; b < 3; b++)
        {
            var input = EffectiveInput(type, x.Row(b).ToArray());
            for (var r = 0; r < rows; r++)
            {
                double expected = 0;
                double magnitude = 0;
                for (var c = 0; c < columns; c++)
                {
                    expected += (double)w.Dense[r * columns + c] * input[c];
                    magnitude += Math.Abs((double)w.Dense[r * columns + c] * input[c]);
                }

                Assert.True(Math.Abs(expected - y[b * rows + r]) <= 1e-5 * magnitude + 1e-6, $"{type} b={b} r={r}: {y[b * rows + r]} vs {expected}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(AllTypes))]
    public void Multiply_SteadyState_AllocatesNothing(GgmlType type)
    {
        var w = TestWeights.Random(type, 64, 256, seed: 4);
        var m = WeightMatrix.Create(type, w.Address, 64, 256, "w");
        var x = RandomBatch(2, 256, seed: 5);
        var y = new float[2 * 64];
        using var pool = new WorkerPool(2);
        SteadyState.AssertAllocatesNothing(_ =>
        {
            x.MarkDirty();
            m.Multiply(x, y, pool);
        }, warmUp: 1);
    }

    [Fact]
    public void Multiply_WrongShapes_ThrowsNamingTheMatrix()
    {
        var w = TestWeights.Random(GgmlType.F32, 4, 32, seed: 1);
        var m = WeightMatrix.Create(GgmlType.F32, w.Address, 4, 32, "blk.0.attn_q");
        using var pool = new WorkerPool(1);
        var e = Assert.Throws<ArgumentException>(() => m.Multiply(new ActivationBatch(1, 64), new float[4], pool));
        Assert.Contains("blk.0.attn_q", e.Message);
        Assert.Throws<ArgumentException>(() => m.Multiply(new ActivationBatch(2, 32), new float[4], pool));
    }

    [Fact]
    public void Create_BadTypeOrRowLength_Throws()
    {
        var w = TestWeights.Random(GgmlType.F32, 4, 32, seed: 1);
        Assert.Throws<NotSupportedException>(() => WeightMatrix.Create(GgmlType.Q4_K, w.Address, 4, 32, "w"));
        Assert.Throws<ArgumentException>(() => WeightMatrix.Create(GgmlType.I2_S, w.Address, 1, 100, "w"));
    }

    internal static ActivationBatch RandomBatch(int batch, int columns, int seed)
    {
        var x = new ActivationBatch(batch, columns);
        var random = new Random(seed);
        foreach (ref var v in x.Data)
        {
            v = (float)(random.NextDouble() * 4 - 2);
        }

        x.MarkDirty();
        return x;
    }

    [Fact]
    public void Create_Q20WithTwoScalesInARowOrCodeThree_NotSupportedNamingTheTensorAndWhy()
    {
        var bytes = new byte[2 * 18];
        BitConverter.GetBytes((Half)1f).CopyTo(bytes, 0);
        BitConverter.GetBytes((Half)2f).CopyTo(bytes, 18);
        bytes.AsSpan(2, 16).Fill(0b10_10_10_10);
        bytes.AsSpan(20, 16).Fill(0b10_10_10_10);
        var handle = System.Runtime.InteropServices.GCHandle.Alloc(bytes, System.Runtime.InteropServices.GCHandleType.Pinned);
        try
        {
            var scales = Assert.Throws<NotSupportedException>(() => WeightMatrix.Create(GgmlType.Q2_0, handle.AddrOfPinnedObject(), 1, 128, "blk.0.ffn_up.weight"));
            Assert.Contains("tensor 'blk.0.ffn_up.weight'", scales.Message, StringComparison.Ordinal);
            Assert.Contains("scales 1 and 2", scales.Message, StringComparison.Ordinal);

            BitConverter.GetBytes((Half)1f).CopyTo(bytes, 18);
            bytes[20] = 0b11;
            var code3 = Assert.Throws<NotSupportedException>(() => WeightMatrix.Create(GgmlType.Q2_0, handle.AddrOfPinnedObject(), 1, 128, "w"));
            Assert.Contains("code 3", code3.Message, StringComparison.Ordinal);
        }
        finally
        {
            handle.Free();
        }
    }

    /// <summary>The input a kernel effectively multiplies: the dequantized activations for the integer paths.</summary>
    private static double[] EffectiveInput(GgmlType type, float[] x)
    {
        var group = type switch
        {
            GgmlType.I2_S or GgmlType.TQ2_0 or GgmlType.TQ1_0 or GgmlType.IQ2_BN or GgmlType.IQ1_BN or GgmlType.Q2_0 => x.Length,
            GgmlType.Q8_0 => 32,
            _ => 0,
        };
        var result = new double[x.Length];
        for (var start = 0; start < x.Length; start += group == 0 ? x.Length : group)
        {
            var n = group == 0 ? x.Length : group;
            var amax = 0f;
            for (var i = start; i < start + n; i++)
            {
                amax = MathF.Max(amax, MathF.Abs(x[i]));
            }

            for (var i = start; i < start + n; i++)
            {
                result[i] = group == 0 ? x[i] : MathF.Round(x[i] * (127f / amax)) * (double)(amax / 127f);
            }
        }

        return result;
    }
}
