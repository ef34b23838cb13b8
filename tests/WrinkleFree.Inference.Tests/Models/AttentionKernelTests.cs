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
    public void Heads_AgainstThePerPositionForm_AreBitIdentical(int headDim, int length)
    {
        // Two KV heads, the second one read, so the kernel's head offset matters; lengths cross the 64-position pages (the
        // value sums are stored and reloaded between pages) and leave 1-3 positions after the blocks of four. Three query
        // heads share the KV head, as a group does, each checked against the per-position form on its own.
        Assert.True(AttentionKernel.Supports(headDim) || !System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated);
        const int Heads = 3;
        var (cache, seq) = Filled(headDim, kvHeads: 2, length, seed: headDim * 1000 + length);
        using (cache)
        using (seq)
        {
            var random = new Random(length);
            var q = Enumerable.Range(0, Heads * headDim).Select(_ => (float)(random.NextDouble() * 4 - 2)).ToArray();
            var scale = 1f / MathF.Sqrt(headDim);
            var scores = new float[Heads * length + 8];
            var actual = Enumerable.Repeat(float.NaN, Heads * headDim).ToArray();
            ModelRunner.AttentionWork.Heads(q, seq, layer: 1, kvHead: 1, length, scale, scores, actual);
            for (var h = 0; h < Heads; h++)
            {
                var expectedScores = new float[length + 8];
                var expected = new float[headDim];
                ModelRunner.AttentionWork.PerPosition(q.AsSpan(h * headDim, headDim), seq, layer: 1, kvHead: 1, length, scale, expectedScores, expected);
                Assert.Equal(expectedScores.Take(length).Select(BitConverter.SingleToInt32Bits), scores.Skip(h * length).Take(length).Select(BitConverter.SingleToInt32Bits));
                Assert.Equal(expected.Select(BitConverter.SingleToInt32Bits), actual.Skip(h * headDim).Take(headDim).Select(BitConverter.SingleToInt32Bits));
                Assert.Contains(actual.Skip(h * headDim).Take(headDim), v => v != 0);
            }
        }
    }

    [Theory]
    [InlineData(128, 1, 16, KvPrecision.F16)]
    [InlineData(128, 60, 16, KvPrecision.F16)]
    [InlineData(128, 120, 9, KvPrecision.F16)]
    [InlineData(64, 3, 5, KvPrecision.F16)]
    [InlineData(48, 70, 4, KvPrecision.F16)]
    [InlineData(128, 60, 16, KvPrecision.F32)]
    [InlineData(48, 70, 4, KvPrecision.F32)]
    public unsafe void Attend_ConsecutiveTokens_SameBitsAsOneTokenAtATime(int headDim, int firstLength, int tokens, KvPrecision precision)
    {
        // A prompt chunk's tokens share each converted page; token i must see positions [0, firstLength + i) only, with the
        // same bits as its own single-token pass. The runs start before, inside and after a 64-position page boundary.
        const int Heads = 2;
        var length = firstLength + tokens - 1;
        var (cache, seq) = Filled(headDim, kvHeads: 2, length, seed: firstLength * 7 + tokens, precision);
        using (cache)
        using (seq)
        {
            var random = new Random(tokens);
            var q = Enumerable.Range(0, tokens * Heads * headDim).Select(_ => (float)(random.NextDouble() * 4 - 2)).ToArray();
            var scale = 1f / MathF.Sqrt(headDim);
            var grouped = new float[tokens * Heads * headDim];
            // Leftovers in the buffers must not matter: a token that read past its own positions would pick up these NaNs.
            var scores = Enumerable.Repeat(float.NaN, tokens * Heads * length).ToArray();
            var rows = Enumerable.Repeat(float.NaN, KvCache.PageTokens * headDim).ToArray();
            fixed (float* pq = q)
            fixed (float* po = grouped)
            fixed (float* ps = scores)
            fixed (float* pr = rows)
            {
                ModelRunner.AttentionWork.Attend(pq, Heads * headDim, po, Heads * headDim, tokens, Heads, seq, layer: 1, kvHead: 1, firstLength, scale, ps, pr);
            }

            for (var i = 0; i < tokens; i++)
            {
                var expected = new float[Heads * headDim];
                ModelRunner.AttentionWork.Heads(q.AsSpan(i * Heads * headDim, Heads * headDim), seq, layer: 1, kvHead: 1, firstLength + i, scale, new float[Heads * length], expected);
                Assert.Equal(expected.Select(BitConverter.SingleToInt32Bits), grouped.Skip(i * Heads * headDim).Take(Heads * headDim).Select(BitConverter.SingleToInt32Bits));
            }
        }
    }

    [Fact]
    public void F32Cache_KeepsTheProjectionsUnrounded()
    {
        // Values a half cannot hold exactly come back exact from an F32 cache, and rounded to half from the default one.
        var row = Enumerable.Range(0, 64).Select(i => 1f + i * 1e-4f).ToArray();
        Assert.NotEqual(row, row.Select(v => (float)(Half)v));
        foreach (var precision in new[] { KvPrecision.F32, KvPrecision.F16 })
        {
            var (cache, seq) = Filled(headDim: 64, kvHeads: 2, length: 3, seed: 5, precision);
            using (cache)
            using (seq)
            {
                seq.Store(0, 1, 2, 1, row);
                var back = new float[64];
                seq.Read(0, 1, 2, 1, back);

                Assert.Equal(precision == KvPrecision.F32 ? row : row.Select(v => (float)(Half)v), back);
                Assert.Equal((long)(precision == KvPrecision.F32 ? 4 : 2) * cache.PageElements, cache.BytesInUse);
            }
        }
    }

    [Fact]
    public void Heads_ReadTheirOwnKvHead()
    {
        // KV head 1 holds the second head's keys and values; head 0's are different, so reading the wrong head's rows fails.
        var (cache, seq) = Filled(headDim: 64, kvHeads: 2, length: 70, seed: 3);
        using (cache)
        using (seq)
        {
            var q = Enumerable.Repeat(0.05f, 64).ToArray();
            var fromHead0 = new float[64];
            var fromHead1 = new float[64];
            ModelRunner.AttentionWork.Heads(q, seq, layer: 0, kvHead: 0, length: 70, scale: 1f, new float[80], fromHead0);
            ModelRunner.AttentionWork.Heads(q, seq, layer: 0, kvHead: 1, length: 70, scale: 1f, new float[80], fromHead1);
            var expected = new float[64];
            ModelRunner.AttentionWork.PerPosition(q, seq, layer: 0, kvHead: 1, length: 70, scale: 1f, new float[80], expected);
            Assert.Equal(expected, fromHead1);
            Assert.NotEqual(fromHead0, fromHead1);
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
            var value = new float[128];
            seq.Read(0, 1, 66, 0, value);
            value[5] = float.NaN;
            seq.Store(0, 1, 66, 0, value);
            var q = Enumerable.Repeat(0.01f, 128).ToArray();
            var output = new float[128];
            ModelRunner.AttentionWork.Heads(q, seq, layer: 0, kvHead: 0, length: 70, scale: 1f, new float[80], output);
            Assert.True(float.IsNaN(output[5]));
            Assert.False(float.IsNaN(output[4]));
        }
    }

    private (KvCache Cache, KvSequence Seq) Filled(int headDim, int kvHeads, int length, int seed, KvPrecision precision = KvPrecision.F16)
    {
        ModelConfig config;
        using (var model = Model.Load(models.Path(GgmlType.TQ2_0)))
        {
            config = model.Config with { Layers = 2, KvHeads = kvHeads, HeadDim = headDim };
        }

        var cache = new KvCache(config, length + KvCache.PageTokens, precision: precision);
        var seq = cache.CreateSequence(length);
        seq.EnsureCapacity(length);
        var random = new Random(seed);
        for (var layer = 0; layer < 2; layer++)
        {
            for (var p = 0; p < length; p++)
            {
                for (var h = 0; h < kvHeads; h++)
                {
                    seq.Store(layer, 0, p, h, Values(headDim, random));
                    seq.Store(layer, 1, p, h, Values(headDim, random));
                }
            }
        }

        seq.Commit(length);
        return (cache, seq);
    }

    private static float[] Values(int count, Random random)
    {
        var row = new float[count];
        for (var i = 0; i < row.Length; i++)
        {
            row[i] = (float)((random.NextDouble() * 2 - 1) * Math.Pow(10, random.Next(-3, 2)));
        }

        return row;
    }
}
