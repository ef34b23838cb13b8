using WrinkleFree.Inference.Gguf;
using WrinkleFree.Inference.Tensors;
using WrinkleFree.Inference.Tensors.Kernels;
using WrinkleFree.Inference.Tensors.Kernels.Scalar;
using WrinkleFree.Inference.Threading;

namespace WrinkleFree.Inference.Tests.Tensors;

/// <summary>TQ2_0 and TQ1_0 tensors with one scale per row run on the I2_S kernels after a load-time repack.</summary>
public sealed unsafe class TernaryRepackTests
{
    [Fact]
    public void ToI2S_RandomBytes_MatchesScalarFieldReversal()
    {
        const int rows = 3, columns = 512;
        var w = TestWeights.Random(GgmlType.TQ2_0, rows, columns, seed: 9);
        var packed = new byte[rows * columns / 4];
        fixed (byte* p = packed)
        {
            TernaryRepack.ToI2S((byte*)w.Address, rows, columns, p);
        }

        var source = (byte*)w.Address;
        for (var k = 0; k < rows * columns / 256; k++)
        {
            for (var j = 0; j < 64; j++)
            {
                Assert.Equal(TernaryRepack.ReverseFields(source[k * BlockDecoders.TQ2BlockBytes + j]), packed[k * 64 + j]);
            }
        }
    }

    [Fact]
    public void Create_TQ2WithMixedBlockScales_KeepsTheBlockLayout()
    {
        var w = TestWeights.Random(GgmlType.TQ2_0, 4, 512, seed: 2);
        Assert.False(WeightMatrix.Create(GgmlType.TQ2_0, w.Address, 4, 512, "w").Repacked);
    }

    [Theory]
    [InlineData(13, 768, 1)]
    [InlineData(13, 768, 5)]
    [InlineData(7, 4352, 17)]
    [InlineData(33, 512, 16)]
    public void Multiply_TQ2WithRowScales_RepacksAndMatchesBlockKernel(int rows, int columns, int batch)
    {
        var w = RowUniform(rows, columns, seed: rows + columns);
        var x = WeightMatrixTests.RandomBatch(batch, columns, seed: batch);
        var expected = new float[batch * rows];
        fixed (float* py = expected)
        {
            var args = TernaryArgs.For((byte*)w.Address, rows, columns, 1f, x.GetInt8(), batch, py);
            ScalarKernels.TQ2(in args, 0, rows);
        }

        using var pool = new WorkerPool(2);
        foreach (var family in KernelFamily.Supported)
        {
            var repacked = WeightMatrix.Create(GgmlType.TQ2_0, w.Address, rows, columns, "w", family);
            Assert.True(repacked.Repacked);
            var y = new float[batch * rows];
            x.MarkDirty();
            repacked.Multiply(x, y, pool);
            for (var i = 0; i < y.Length; i++)
            {
                // Same integer dot; only the order of the float scaling differs from the per-block reference.
                Assert.True(MathF.Abs(expected[i] - y[i]) <= 1e-5f * MathF.Max(1f, MathF.Abs(expected[i])), $"{family} [{i}]: {y[i]} vs {expected[i]}");
            }
        }

        var m = WeightMatrix.Create(GgmlType.TQ2_0, w.Address, rows, columns, "w");
        Assert.True(m.Repacked);
        var row = new float[columns];
        var reference = new float[columns];
        for (var r = 0; r < rows; r++)
        {
            m.GetRow(r, row);
            BlockDecoders.DecodeRow(GgmlType.TQ2_0, (byte*)w.Address + (long)r * (columns / 256) * BlockDecoders.TQ2BlockBytes, columns, 1f, reference);
            Assert.Equal(reference, row);
        }
    }

    [Fact]
    public void Create_TQ1WithMixedBlockScales_KeepsTheBlockLayout()
    {
        var w = TestWeights.Random(GgmlType.TQ1_0, 4, 512, seed: 2);
        var m = WeightMatrix.Create(GgmlType.TQ1_0, w.Address, 4, 512, "w");
        Assert.False(m.Repacked);
        Assert.Equal(GgmlType.TQ1_0, ((TernaryMatrix)m).KernelType);
    }

    [Theory]
    [InlineData(13, 768, 1)]
    [InlineData(13, 768, 5)]
    [InlineData(7, 4352, 17)]
    [InlineData(33, 512, 16)]
    public void Multiply_TQ1WithRowScales_RepacksAndMatchesBlockKernel(int rows, int columns, int batch)
    {
        var w = Tq1RowUniform(rows, columns, seed: rows + columns);
        var x = WeightMatrixTests.RandomBatch(batch, columns, seed: batch);
        var expected = new float[batch * rows];
        fixed (float* py = expected)
        {
            var args = TernaryArgs.For((byte*)w.Address, rows, columns, 1f, x.GetInt8(), batch, py);
            ScalarKernels.TQ1(in args, 0, rows);
        }

        using var pool = new WorkerPool(2);
        foreach (var family in KernelFamily.Supported)
        {
            var repacked = WeightMatrix.Create(GgmlType.TQ1_0, w.Address, rows, columns, "w", family);
            Assert.True(repacked.Repacked);
            Assert.Equal(GgmlType.I2_S, ((TernaryMatrix)repacked).KernelType);
            var y = new float[batch * rows];
            x.MarkDirty();
            repacked.Multiply(x, y, pool);
            for (var i = 0; i < y.Length; i++)
            {
                Assert.True(MathF.Abs(expected[i] - y[i]) <= 1e-5f * MathF.Max(1f, MathF.Abs(expected[i])), $"{family} [{i}]: {y[i]} vs {expected[i]}");
            }
        }

        var m = WeightMatrix.Create(GgmlType.TQ1_0, w.Address, rows, columns, "w");
        var row = new float[columns];
        var reference = new float[columns];
        for (var r = 0; r < rows; r++)
        {
            m.GetRow(r, row);
            BlockDecoders.DecodeRow(GgmlType.TQ1_0, (byte*)w.Address + (long)r * (columns / 256) * BlockDecoders.TQ1BlockBytes, columns, 1f, reference);
            Assert.Equal(reference, row);
        }
    }

    /// <summary>Random TQ1_0 digits with one scale per row; one block of row 0 is all-zero with a different scale.</summary>
    private static TestWeights Tq1RowUniform(int rows, int columns, int seed)
    {
        var w = TestWeights.Random(GgmlType.TQ1_0, rows, columns, seed);
        var random = new Random(seed);
        var blocks = columns / 256;
        var bytes = (byte*)w.Address;
        for (var r = 0; r < rows; r++)
        {
            var d = BitConverter.HalfToUInt16Bits((Half)(0.25f + (float)random.NextDouble()));
            for (var k = 0; k < blocks; k++)
            {
                var block = bytes + ((long)r * blocks + k) * BlockDecoders.TQ1BlockBytes;
                block[52] = (byte)d;
                block[53] = (byte)(d >> 8);
            }
        }

        if (blocks > 1)
        {
            WrinkleFree.Inference.Tensors.Formats.Tq1Layout.Pack(new sbyte[256], (Half)1f, new Span<byte>(bytes + BlockDecoders.TQ1BlockBytes, BlockDecoders.TQ1BlockBytes));
        }

        return w;
    }

    /// <summary>Random TQ2_0 codes with one scale per row; one block of row 0 is all-zero with a different scale.</summary>
    /// <summary>Random TQ2_0 weights whose blocks share one scale per row (what the repack needs).</summary>
    internal static TestWeights RowUniform(int rows, int columns, int seed)
    {
        var w = TestWeights.Random(GgmlType.TQ2_0, rows, columns, seed);
        var random = new Random(seed);
        var blocks = columns / 256;
        var bytes = (byte*)w.Address;
        for (var r = 0; r < rows; r++)
        {
            var d = BitConverter.HalfToUInt16Bits((Half)(0.25f + (float)random.NextDouble()));
            for (var k = 0; k < blocks; k++)
            {
                var block = bytes + ((long)r * blocks + k) * BlockDecoders.TQ2BlockBytes;
                block[64] = (byte)d;
                block[65] = (byte)(d >> 8);
            }
        }

        if (blocks > 1)
        {
            var zero = bytes + BlockDecoders.TQ2BlockBytes;
            new Span<byte>(zero, 64).Fill(0x55);
            zero[64] = 0x00;
            zero[65] = 0x3c;
        }

        return w;
    }
}
