using System.Buffers.Binary;
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

    [Theory]
    [InlineData(GgmlType.TQ2_0)]
    [InlineData(GgmlType.TQ1_0)]
    public void Create_MixedBlockScales_KeepsTheBlockLayout(GgmlType type)
    {
        var w = TestWeights.Random(type, 4, 512, seed: 2);
        var m = WeightMatrix.Create(type, w.Address, 4, 512, "w");
        Assert.False(m.Repacked);
        Assert.Equal(type, ((TernaryMatrix)m).KernelType);
    }

    public static TheoryData<GgmlType, int, int, int> RowScaledCases()
    {
        var data = new TheoryData<GgmlType, int, int, int>();
        foreach (var type in new[] { GgmlType.TQ2_0, GgmlType.TQ1_0 })
        {
            data.Add(type, 13, 768, 1);
            data.Add(type, 13, 768, 5);
            data.Add(type, 7, 4352, 17);
            data.Add(type, 33, 512, 16);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(RowScaledCases))]
    public void Multiply_RowScaledBlocks_RepacksAndMatchesBlockKernel(GgmlType type, int rows, int columns, int batch)
    {
        var w = RowUniform(rows, columns, seed: rows + columns, type);
        var blockBytes = type == GgmlType.TQ2_0 ? BlockDecoders.TQ2BlockBytes : BlockDecoders.TQ1BlockBytes;
        var x = WeightMatrixTests.RandomBatch(batch, columns, seed: batch);
        var expected = new float[batch * rows];
        fixed (float* py = expected)
        {
            var args = TernaryArgs.For((byte*)w.Address, rows, columns, 1f, x.GetInt8(), batch, py);
            if (type == GgmlType.TQ2_0)
            {
                ScalarKernels.TQ2(in args, 0, rows);
            }
            else
            {
                ScalarKernels.TQ1(in args, 0, rows);
            }
        }

        using var pool = new WorkerPool(2);
        foreach (var family in KernelFamily.Supported)
        {
            var repacked = WeightMatrix.Create(type, w.Address, rows, columns, "w", family);
            Assert.True(repacked.Repacked);
            Assert.Equal(GgmlType.I2_S, ((TernaryMatrix)repacked).KernelType);
            var y = new float[batch * rows];
            x.MarkDirty();
            repacked.Multiply(x, y, pool);
            for (var i = 0; i < y.Length; i++)
            {
                // Same integer dot; only the order of the float scaling differs from the per-block reference.
                Assert.True(MathF.Abs(expected[i] - y[i]) <= 1e-5f * MathF.Max(1f, MathF.Abs(expected[i])), $"{family} [{i}]: {y[i]} vs {expected[i]}");
            }
        }

        var m = WeightMatrix.Create(type, w.Address, rows, columns, "w");
        var row = new float[columns];
        var reference = new float[columns];
        for (var r = 0; r < rows; r++)
        {
            m.GetRow(r, row);
            BlockDecoders.DecodeRow(type, (byte*)w.Address + (long)r * (columns / 256) * blockBytes, columns, 1f, reference);
            Assert.Equal(reference, row);
        }
    }

    /// <summary>
    /// Random TQ2_0 or TQ1_0 weights whose blocks share one scale per row (what the repack needs); one block of row 0 is
    /// all-zero with a different scale, which does not count.
    /// </summary>
    internal static TestWeights RowUniform(int rows, int columns, int seed, GgmlType type = GgmlType.TQ2_0)
    {
        var w = TestWeights.Random(type, rows, columns, seed);
        var (blockBytes, scaleAt) = type == GgmlType.TQ2_0 ? (BlockDecoders.TQ2BlockBytes, 64) : (BlockDecoders.TQ1BlockBytes, 52);
        var random = new Random(seed);
        var blocks = columns / 256;
        var bytes = (byte*)w.Address;
        for (var r = 0; r < rows; r++)
        {
            var d = BitConverter.HalfToUInt16Bits((Half)(0.25f + (float)random.NextDouble()));
            for (var k = 0; k < blocks; k++)
            {
                var block = bytes + ((long)r * blocks + k) * blockBytes;
                block[scaleAt] = (byte)d;
                block[scaleAt + 1] = (byte)(d >> 8);
            }
        }

        if (blocks > 1)
        {
            var zero = new Span<byte>(bytes + blockBytes, blockBytes);
            if (type == GgmlType.TQ2_0)
            {
                zero[..64].Fill(0x55);
                BinaryPrimitives.WriteHalfLittleEndian(zero[64..], (Half)1f);
            }
            else
            {
                WrinkleFree.Inference.Tensors.Formats.Tq1Layout.Pack(new sbyte[256], (Half)1f, zero);
            }
        }

        return w;
    }
}
