using WrinkleFree.Inference.Batching;
using WrinkleFree.Inference.Gguf;
using WrinkleFree.Inference.Models;
using WrinkleFree.Inference.Sampling;
using WrinkleFree.Inference.Tests.Models;

namespace WrinkleFree.Inference.Tests.Batching;

[Collection(SyntheticModelCollection.Name)]
public sealed class WarmUpTests(SyntheticModelFixture models)
{
    [Fact]
    public async Task WarmUp_LeavesNoTrace_AndTheSameTokensAsWithout()
    {
        using var model = Model.Load(models.Path(GgmlType.TQ2_0));
        using var warm = Engine(model, warmUp: true);
        using var cold = Engine(model, warmUp: false);

        Assert.True(warm.WarmUpTime > TimeSpan.Zero);
        Assert.Equal(TimeSpan.Zero, cold.WarmUpTime);
        // Nothing a request or /metrics sees: no counters, no sequence holding pages, nothing in the prefix cache.
        Assert.Equal(0, warm.Steps);
        Assert.Equal(0, warm.GeneratedTokens);
        Assert.Equal(0, warm.PromptTokensProcessed);
        Assert.Equal(0, warm.WeightBytesStreamed);
        Assert.Equal(0, warm.KvCache.PagesInUse);
        Assert.Equal(0, warm.KvCache.CachedPages);

        // The first prompt starts with the warm-up's own token ids: a warm-up page left in the prefix cache would map here.
        int[] prompt = [.. Enumerable.Range(0, 80), .. Enumerable.Range(300, 20)];
        var (warmIds, cached) = await Run(warm, prompt);
        Assert.Equal(0, cached);
        Assert.Equal((await Run(cold, prompt)).Ids, warmIds);
    }

    [Fact]
    public void Prefault_AllocatesFreePagesWithinTheBudget()
    {
        using var model = Model.Load(models.Path(GgmlType.TQ2_0));
        var cache = new KvCache(model.Config, 3 * KvCache.PageTokens);
        Assert.Equal(2, cache.Prefault(2));
        Assert.Equal(0, cache.PagesInUse);
        // The budget is three pages: asking for more gives what fits.
        Assert.Equal(3, cache.Prefault(10));
        using var seq = cache.CreateSequence(3 * KvCache.PageTokens);
        seq.EnsureCapacity(3 * KvCache.PageTokens);
        Assert.Equal(3, cache.PagesInUse);
        Assert.Throws<KvCacheFullException>(() => cache.CreateSequence(KvCache.PageTokens).EnsureCapacity(1));

        // Fresh pages read as zeros (attention weighs slots past a sequence's length by zero, so garbage there would not vanish).
        var row = new float[seq.HeadDim];
        seq.Read(0, 0, 5, 0, row);
        Assert.False(row.AsSpan().ContainsAnyExcept(0f));
        seq.Store(0, 0, 5, 0, Enumerable.Repeat(1f, seq.HeadDim).ToArray());

        // The pages are native memory the cache frees: a sequence used after that fails loudly instead of reading freed memory.
        cache.Dispose();
        Assert.Throws<ObjectDisposedException>(() => seq.Read(0, 0, 5, 0, row));
    }

    private static InferenceEngine Engine(Model model, bool warmUp) =>
        new(model, new EngineOptions { Threads = 2, MaxSequences = 2, MaxBatchTokens = 64, PrefillChunk = 32, WarmUp = warmUp });

    private static async Task<(List<int> Ids, int Cached)> Run(InferenceEngine engine, int[] prompt)
    {
        var ids = new List<int>();
        var cached = -1;
        var request = new GenerationRequest { PromptTokens = prompt, MaxTokens = 12, IgnoreEos = true, Sampling = new SamplingOptions { Temperature = 0 } };
        await foreach (var u in engine.GenerateAsync(request))
        {
            if (u.TokenId >= 0)
            {
                ids.Add(u.TokenId);
            }

            cached = Math.Max(cached, u.CachedPromptTokens);
        }

        return (ids, cached);
    }
}
