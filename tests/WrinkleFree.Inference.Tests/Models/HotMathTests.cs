using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using WrinkleFree.Inference.Models;

namespace WrinkleFree.Inference.Tests.Models;

/// <summary>The forward step's own vector helpers against plain scalar (double where it sums) references, at lengths around every vector edge.</summary>
public sealed class HotMathTests
{
    public static TheoryData<int> Lengths => [0, 1, 7, 8, 9, 15, 16, 17, 31, 64, 100, 128, 2560];

    [Theory]
    [MemberData(nameof(Lengths))]
    public void SumOfSquaresAndDot_MatchDoubleReference(int n)
    {
        var a = Values(n, 1);
        var b = Values(n, 2);
        double squares = 0, dot = 0;
        for (var i = 0; i < n; i++)
        {
            squares += (double)a[i] * a[i];
            dot += (double)a[i] * b[i];
        }

        Assert.Equal(squares, HotMath.SumOfSquares(a), 1e-4 * Math.Max(1, squares));
        Assert.Equal(dot, HotMath.Dot(a, b), 1e-4 * Math.Max(1, Math.Abs(dot)) + 1e-4);
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void MaxAbs_MatchesTensorPrimitivesMaxMagnitude_IncludingSpecials(int n)
    {
        var x = Values(n, 5);
        Assert.Equal(n == 0 ? 0f : MathF.Abs(TensorPrimitives.MaxMagnitude(x)), HotMath.MaxAbs(x));
        if (n == 0)
        {
            return;
        }

        // The largest magnitude negative, at the end (the scalar tail) and at the start (the vector loop).
        foreach (var at in new[] { n - 1, 0 })
        {
            var y = (float[])x.Clone();
            y[at] = -1e30f;
            Assert.Equal(1e30f, HotMath.MaxAbs(y));
            y[at] = float.NegativeInfinity;
            Assert.Equal(float.PositiveInfinity, HotMath.MaxAbs(y));
            y[at] = float.NaN;
            Assert.True(float.IsNaN(HotMath.MaxAbs(y)), "NaN must propagate, as TensorPrimitives.MaxMagnitude does");
        }

        var zeros = new float[n];
        zeros[n / 2] = -0f;
        Assert.Equal(0f, HotMath.MaxAbs(zeros));
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void ElementWise_MatchScalarReference(int n)
    {
        var x = Values(n, 3);
        var w = Values(n, 4);
        var expectScaled = x.Select((v, i) => v * 0.37f * w[i]).ToArray();
        var scaled = new float[n];
        HotMath.ScaleBy(x, 0.37f, w, scaled);
        Assert.Equal(expectScaled, scaled);

        var acc = Values(n, 5);
        var expectAcc = acc.Select((v, i) => v + (x[i] * 1.5f)).ToArray();
        HotMath.AddScaled(x, 1.5f, acc);
        AssertClose(expectAcc, acc, 1e-6f);

        var sum = (float[])acc.Clone();
        HotMath.Add(sum, x);
        Assert.Equal(acc.Select((v, i) => v + x[i]).ToArray(), sum);

        var up = Values(n, 6);
        var relu = (float[])up.Clone();
        HotMath.ReluSquaredGate(x, relu);
        Assert.Equal(up.Select((u, i) => u * (MathF.Max(x[i], 0) * MathF.Max(x[i], 0))).ToArray(), relu);

        var silu = (float[])up.Clone();
        HotMath.SiluGate(x, silu);
        AssertClose(up.Select((u, i) => u * (x[i] / (1 + MathF.Exp(-x[i])))).ToArray(), silu, 1e-5f);
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void SoftMax_MatchesTensorPrimitivesAndSumsToOne(int n)
    {
        if (n == 0)
        {
            return;
        }

        var x = Values(n, 7).Select(v => v * 8).ToArray();
        x[n / 2] = 40;
        var expected = new float[n];
        TensorPrimitives.SoftMax(x, expected);
        HotMath.SoftMax(x);
        AssertClose(expected, x, 1e-6f);
        Assert.Equal(1.0, x.Sum(v => (double)v), 1e-5);
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void SoftMax_SumsInItsDocumentedOrder_SameBitsAtEveryWidth(int n)
    {
        // The order SoftMax documents, written out with 8-lane vectors: exponentials of the 8-value blocks, summed in two
        // accumulators (even and odd blocks), Vector256.Sum of their sum, then the tail one by one. The 16-lane path (and,
        // under DOTNET_EnableAVX512=0, the 8-lane one) must give exactly these bits.
        if (n == 0 || !Vector256.IsHardwareAccelerated)
        {
            return;
        }

        var x = Values(n, 11).Select(v => v * 8).ToArray();
        var max = x.Max();
        var e = new float[n];
        Vector256<float> a = default, b = default;
        var blocks = n / 8;
        for (var k = 0; k < blocks; k++)
        {
            var v = HotMath.Exp(Vector256.Create(x, 8 * k) - Vector256.Create(max));
            v.CopyTo(e, 8 * k);
            if (k % 2 == 0)
            {
                a += v;
            }
            else
            {
                b += v;
            }
        }

        var sum = Vector256.Sum(a + b);
        for (var i = 8 * blocks; i < n; i++)
        {
            e[i] = MathF.Exp(x[i] - max);
            sum += e[i];
        }

        var expected = e.Select(v => v * (1f / sum)).ToArray();
        HotMath.SoftMax(x);
        Assert.Equal(expected.Select(BitConverter.SingleToInt32Bits), x.Select(BitConverter.SingleToInt32Bits));
    }

    [Fact]
    public void Exp_SixteenLanes_SameBitsAsEight()
    {
        var random = new Random(5);
        var values = Enumerable.Range(0, 4096).Select(_ => (float)((random.NextDouble() * 200) - 100))
            .Concat([0f, -0f, -87.3f, 88.3f, 88.72f, 88.8f, -1000f, float.NegativeInfinity, float.PositiveInfinity]).ToArray();
        for (var i = 0; i + 16 <= values.Length; i += 16)
        {
            var wide = HotMath.Exp(Vector512.Create(values, i));
            var low = HotMath.Exp(Vector256.Create(values, i));
            var high = HotMath.Exp(Vector256.Create(values, i + 8));
            Assert.Equal(
                Enumerable.Range(0, 16).Select(j => BitConverter.SingleToInt32Bits(j < 8 ? low[j] : high[j - 8])),
                Enumerable.Range(0, 16).Select(j => BitConverter.SingleToInt32Bits(wide[j])));
        }
    }

    [Fact]
    public void Exp_MatchesMathExp_AndSaturates()
    {
        var random = new Random(3);
        for (var i = 0; i < 4000; i++)
        {
            var x = (float)((random.NextDouble() * 174) - 87);
            var e = System.Runtime.Intrinsics.Vector256.Create(x);
            var got = HotMath.Exp(e).GetElement(i % 8);
            var expected = MathF.Exp(x);
            Assert.True(MathF.Abs(got - expected) <= 1e-6f * expected, $"exp({x}) = {got}, expected {expected}");
        }

        Assert.Equal(0f, HotMath.Exp(System.Runtime.Intrinsics.Vector256.Create(-1000f)).GetElement(0));
        Assert.Equal(0f, HotMath.Exp(System.Runtime.Intrinsics.Vector256.Create(float.NegativeInfinity)).GetElement(0));
        Assert.Equal(1f, HotMath.Exp(System.Runtime.Intrinsics.Vector256<float>.Zero).GetElement(0));
        Assert.Equal(float.PositiveInfinity, HotMath.Exp(System.Runtime.Intrinsics.Vector256.Create(100f)).GetElement(0));
    }

    [Fact]
    public void MismatchedLengths_Throw()
    {
        Assert.Throws<ArgumentException>(() => HotMath.Dot(new float[3], new float[4]));
        Assert.Throws<ArgumentException>(() => HotMath.Add(new float[3], new float[4]));
        Assert.Throws<ArgumentException>(() => HotMath.ScaleBy(new float[3], 1, new float[3], new float[2]));
    }

    private static float[] Values(int n, int seed)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, n).Select(_ => (float)((random.NextDouble() * 2) - 1))];
    }

    private static void AssertClose(float[] expected, float[] actual, float tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance * Math.Max(1, Math.Abs(expected[i])), $"[{i}] expected {expected[i]}, got {actual[i]}");
        }
    }
}
