using WrinkleFree.Inference.Gguf;
using WrinkleFree.Inference.Tensors;
using WrinkleFree.Inference.Threading;

namespace WrinkleFree.Inference.Tests.Tensors;

public sealed class TernaryGroupTests
{
    [Theory]
    [InlineData(GgmlType.I2_S, 1)]
    [InlineData(GgmlType.I2_S, 9)]
    [InlineData(GgmlType.TQ2_0, 3)]
    [InlineData(GgmlType.TQ1_0, 2)]
    public void Multiply_ThreeParts_EqualsSeparateMultiplies(GgmlType type, int batch)
    {
        const int columns = 512;
        int[] rows = [37, 8, 13];
        var weights = rows.Select((r, i) => TestWeights.Random(type, r, columns, seed: 40 + i)).ToArray();
        var matrices = weights.Select(w => WeightMatrix.Create(type, w.Address, w.Rows, columns, "w")).ToArray();
        var group = TernaryGroup.TryCreate(matrices);
        Assert.NotNull(group);
        var x = WeightMatrixTests.RandomBatch(batch, columns, seed: 7);
        using var pool = new WorkerPool(2);
        var separate = rows.Select(r => new float[batch * r]).ToArray();
        for (var i = 0; i < 3; i++)
        {
            matrices[i].Multiply(x, separate[i], pool);
        }

        var fused = rows.Select(r => new float[batch * r]).ToArray();
        group.Multiply(x, fused[0], fused[1], fused[2], pool);
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(separate[i], fused[i]);
        }
    }

    [Fact]
    public void TryCreate_NonTernaryOrMismatchedColumns_ReturnsNull()
    {
        var t = TestWeights.Random(GgmlType.I2_S, 4, 256, seed: 1);
        var u = TestWeights.Random(GgmlType.I2_S, 4, 512, seed: 2);
        var f = TestWeights.Random(GgmlType.F32, 4, 256, seed: 3);
        var ternary = WeightMatrix.Create(GgmlType.I2_S, t.Address, 4, 256, "t");
        Assert.Null(TernaryGroup.TryCreate(ternary, WeightMatrix.Create(GgmlType.F32, f.Address, 4, 256, "f")));
        Assert.Null(TernaryGroup.TryCreate(ternary, WeightMatrix.Create(GgmlType.I2_S, u.Address, 4, 512, "u")));
    }
}
