using WrinkleFree.Inference.Gguf;
using WrinkleFree.Inference.Models;

namespace WrinkleFree.Inference.Tests.Models;

[Collection(SyntheticModelCollection.Name)]
public sealed class AttentionKernelTests(SyntheticModelFixture models)
{
    [Theory]
    [InlineData(16, 1)]
    [InlineData(64, 3)]
    [InlineData(64, 64)]
    [InlineData(128, 1)]
    [InlineData(128, 4)]
    [InlineData(128, 5)]
    [InlineData(128, 63)]
    [InlineData(128, 65)]
    [InlineData(128, 130)]
    [InlineData(80, 67)]
    [InlineData(48, 129)]
    [InlineData(96, 200)]
    public void Head_AgainstThePerPositionForm_IsBitIdentical(int headDim, int length)
    {
        // Two KV heads, the second one read, so the kernel's row offset and the KvDim stride both matter; lengths cross
        // the 64-position pages and leave 1-3 positions after the blocks of four.
        Assert.True(AttentionKernel.Supports(headDim) || !System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated);
        var (cache, seq) = Filled(headDim, kvHeads: 2, length, seed: headDim * 1000 + length);
        using (cache)
        using (seq)
        {
            var random = new Random(length);
            var q = Enumerable.Range(0, headDim).Select(_ => (float)(random.NextDouble() * 4 - 2)).ToArray();
            var scale = 1f / MathF.Sqrt(headDim);
            var expectedScores = new float[length + 8];
            var expected = new float[headDim];
            ModelRunner.AttentionWork.PerPosition(q, seq, layer: 1, kvOffset: headDim, length, scale, expectedScores, expected);
            var scores = new float[length + 8];
            var actual = Enumerable.Repeat(float.NaN, headDim).ToArray();
            ModelRunner.AttentionWork.Head(q, seq, layer: 1, kvOffset: headDim, length, scale, scores, actual);
            Assert.Equal(expectedScores.Take(length).Select(BitConverter.SingleToInt32Bits), scores.Take(length).Select(BitConverter.SingleToInt32Bits));
            Assert.Equal(expected.Select(BitConverter.SingleToInt32Bits), actual.Select(BitConverter.SingleToInt32Bits));
            Assert.Contains(actual, v => v != 0);
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(8)]
    [InlineData(40)]
    [InlineData(100)]
    public void Supports_HeadsNotAMultipleOf16_TakeThePerPositionForm(int headDim)
    {
        Assert.False(AttentionKernel.Supports(headDim));
    }

    [Fact]
    public void Head_NaNInOneValue_ReachesTheOutputAsBefore()
    {
        var (cache, seq) = Filled(headDim: 128, kvHeads: 1, length: 70, seed: 7);
        using (cache)
        using (seq)
        {
            seq.Value(0, 66)[5] = float.NaN;
            var q = Enumerable.Repeat(0.01f, 128).ToArray();
            var output = new float[128];
            ModelRunner.AttentionWork.Head(q, seq, layer: 0, kvOffset: 0, length: 70, scale: 1f, new float[80], output);
            Assert.True(float.IsNaN(output[5]));
            Assert.False(float.IsNaN(output[4]));
        }
    }

    private (KvCache Cache, KvSequence Seq) Filled(int headDim, int kvHeads, int length, int seed)
    {
        ModelConfig config;
        using (var model = Model.Load(models.Path(GgmlType.TQ2_0)))
        {
            config = model.Config with { Layers = 2, KvHeads = kvHeads, HeadDim = headDim };
        }

        var cache = new KvCache(config, length + KvCache.PageTokens);
        var seq = cache.CreateSequence(length);
        seq.EnsureCapacity(length);
        var random = new Random(seed);
        for (var layer = 0; layer < 2; layer++)
        {
            for (var p = 0; p < length; p++)
            {
                Fill(seq.Key(layer, p), random);
                Fill(seq.Value(layer, p), random);
            }
        }

        seq.Commit(length);
        return (cache, seq);
    }

    private static void Fill(Span<float> row, Random random)
    {
        for (var i = 0; i < row.Length; i++)
        {
            row[i] = (float)((random.NextDouble() * 2 - 1) * Math.Pow(10, random.Next(-3, 2)));
        }
    }
}
