using WrinkleFree.Inference.Tensors;
using WrinkleFree.Inference.Threading;

namespace WrinkleFree.Inference.Tests.Tensors;

public sealed unsafe class ActivationBatchTests
{
    /// <summary>Without a pool the rows are quantized in order; with one (the model's steps), the threads share them.</summary>
    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    public void GetInt8_RandomRows_FollowsAbsmaxRule(int threads)
    {
        using var pool = threads > 0 ? new WorkerPool(threads) : null;
        var x = new ActivationBatch(3, 300);
        var random = new Random(1);
        foreach (ref var v in x.Data)
        {
            v = (float)(random.NextDouble() * 8 - 4);
        }

        x.Row(1).Clear();
        x.MarkDirty();
        var a = x.GetInt8(pool);
        for (var b = 0; b < 3; b++)
        {
            var row = x.Row(b);
            var amax = 0f;
            foreach (var v in row)
            {
                amax = MathF.Max(amax, MathF.Abs(v));
            }

            Assert.Equal(amax / 127f, a.Scale.Pointer[b]);
            var sum = 0;
            for (var c = 0; c < 300; c++)
            {
                var expected = amax == 0 ? 0 : (int)Math.Clamp(MathF.Round(row[c] * (127f / amax)), -127, 127);
                Assert.Equal(expected, a.Q.Pointer[b * a.Stride + c]);
                sum += expected;
            }

            Assert.Equal(sum, a.RowSum.Pointer[b]);
            Assert.Equal(sum, a.BlockSum.Pointer[b * a.Blocks] + a.BlockSum.Pointer[b * a.Blocks + 1]);
            for (var t = 0; t < a.Stride; t++)
            {
                var block = t / 256 * 256;
                Assert.Equal(a.Q.Pointer[b * a.Stride + block + Int8Activations.InterleavedSource(t % 256)], a.QInterleaved.Pointer[b * a.Stride + t]);
            }
        }

        Assert.Equal(0f, a.Scale.Pointer[1]);
    }

    [Fact]
    public void Sum_AnyLength_EqualsTheScalarSum()
    {
        var random = new Random(5);
        foreach (var n in new[] { 0, 1, 31, 32, 33, 63, 64, 65, 96, 127, 256, 1000 })
        {
            var values = new sbyte[n];
            for (var i = 0; i < n; i++)
            {
                values[i] = (sbyte)random.Next(-128, 128);
            }

            if (n > 0)
            {
                values[0] = sbyte.MinValue;
            }

            fixed (sbyte* p = values)
            {
                Assert.Equal(values.Sum(v => v), ActivationQuantizer.Sum(p, n));
            }
        }
    }

    [Fact]
    public void GetInt8_UnchangedVersion_ReusesCacheUntilMarkedDirty()
    {
        var x = new ActivationBatch(1, 32);
        x.Data.Fill(1f);
        x.MarkDirty();
        var first = x.GetInt8();
        Assert.Equal(127, first.Q.Pointer[0]);

        x.Data[0] = -2f;
        Assert.Equal(127, x.GetInt8().Q.Pointer[0]);

        x.MarkDirty();
        Assert.Equal(-127, x.GetInt8().Q.Pointer[0]);
        Assert.Equal(64, x.GetInt8().Q.Pointer[1]);
    }

    [Fact]
    public void Batch_Set_InvalidatesCacheAndResizesData()
    {
        var x = new ActivationBatch(4, 8);
        x.Batch = 1;
        x.Data.Fill(1f);
        _ = x.GetInt8();
        x.Batch = 2;
        Assert.Equal(16, x.Data.Length);
        x.Row(1).Fill(3f);
        x.MarkDirty();
        var a = x.GetInt8();
        Assert.Equal(3f / 127f, a.Scale.Pointer[1]);
        Assert.Throws<ArgumentOutOfRangeException>(() => x.Batch = 5);
        Assert.Throws<ArgumentOutOfRangeException>(() => x.Row(2));
    }

    [Fact]
    public void GetQ8_RandomRow_ScalesEach32Block()
    {
        var x = new ActivationBatch(1, 64);
        for (var i = 0; i < 64; i++)
        {
            x.Data[i] = i < 32 ? i * 0.1f : -(i - 32) * 10f;
        }

        x.MarkDirty();
        var q8 = x.GetQ8();
        Assert.Equal(31 * 0.1f / 127f, q8.Scale.Pointer[0]);
        Assert.Equal(310f / 127f, q8.Scale.Pointer[1]);
        Assert.Equal(127, q8.Q.Pointer[31]);
        Assert.Equal(-127, q8.Q.Pointer[63]);
    }

    [Fact]
    public void QuantizeAvx512_RandomAndTies_MatchesScalarExactly()
    {
        if (!System.Runtime.Intrinsics.X86.Avx512F.IsSupported)
        {
            return;
        }

        var random = new Random(5);
        var n = 1000;
        var x = new float[n];
        for (var i = 0; i < n; i++)
        {
            // Half-integers after scaling by 1 exercise ties-to-even.
            x[i] = i % 3 == 0 ? (random.Next(-254, 255) / 2f) : (float)(random.NextDouble() * 254 - 127);
        }

        var expected = new sbyte[n];
        var actual = new sbyte[n];
        fixed (float* px = x)
        fixed (sbyte* pe = expected)
        fixed (sbyte* pa = actual)
        {
            ActivationQuantizer.QuantizeScalar(px, n, pe, 1f);
            ActivationQuantizer.QuantizeAvx512(px, n, pa, 1f);
        }

        Assert.Equal(expected, actual);
    }
}
