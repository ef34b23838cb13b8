using WrinkleFree.Inference.Batching;
using WrinkleFree.Inference.Gguf;
using WrinkleFree.Inference.Models;
using WrinkleFree.Inference.Sampling;
using WrinkleFree.Inference.Tests.Models;

namespace WrinkleFree.Inference.Tests.Batching;

[Collection(SyntheticModelCollection.Name)]
public sealed class PrefixCacheTests(SyntheticModelFixture models)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(120);
    private static readonly SamplingOptions Greedy = new() { Temperature = 0 };

    [Fact]
    public async Task Generate_SharedSystemPromptAndMultiTurn_SameGreedyTokensAsWithoutCache()
    {
        using var model = Model.Load(models.Path(GgmlType.TQ2_0));
        using var cached = Engine(model, prefixCache: true);
        using var plain = Engine(model, prefixCache: false);
        var system = Tokens(150, seed: 1);
        var turn1 = Concat(system, Tokens(20, seed: 2));
        var a1 = await Run(cached, turn1, 16);
        Assert.Equal(await Run(plain, turn1, 16), a1);

        // A second conversation with the same system prompt maps its two full pages.
        var other = Concat(system, Tokens(9, seed: 3));
        var (otherIds, otherCached) = await RunWithUsage(cached, other, 16);
        Assert.Equal(128, otherCached);
        Assert.Equal(await Run(plain, other, 16), otherIds);

        // The next turn of the first conversation repeats its history, the reply included (published as it was generated).
        var turn2 = Concat(Concat(turn1, [.. a1]), Tokens(30, seed: 4));
        var (turn2Ids, turn2Cached) = await RunWithUsage(cached, turn2, 16);
        Assert.Equal(await Run(plain, turn2, 16), turn2Ids);
        Assert.Equal((turn1.Length + a1.Count) / KvCache.PageTokens * KvCache.PageTokens, turn2Cached);
        Assert.Equal(0, cached.KvCache.PagesInUse);
        Assert.Equal(0, plain.KvCache.CachedPages);
        Assert.True(cached.CachedPromptTokens >= 128 + turn2Cached, $"cached prompt tokens {cached.CachedPromptTokens}");
        Assert.Equal(cached.PromptTokensAdmitted, cached.PromptTokensProcessed + cached.CachedPromptTokens);
    }

    [Theory]
    [InlineData(128, 64)]
    [InlineData(129, 128)]
    [InlineData(63, 0)]
    [InlineData(64, 0)]
    [InlineData(65, 64)]
    public async Task Generate_PromptEndingAtOrPastPageBoundary_RecomputesLastTokenAndMatches(int length, int expectedCached)
    {
        using var model = Model.Load(models.Path(GgmlType.TQ2_0));
        using var cached = Engine(model, prefixCache: true);
        using var plain = Engine(model, prefixCache: false);
        var prompt = Tokens(length, seed: 11);
        var first = await RunWithUsage(cached, prompt, 8);
        Assert.Equal(0, first.Cached);
        var second = await RunWithUsage(cached, prompt, 8);
        Assert.Equal(expectedCached, second.Cached);
        var reference = await Run(plain, prompt, 8);
        Assert.Equal(reference, first.Ids);
        Assert.Equal(reference, second.Ids);
    }

    [Fact]
    public async Task Generate_SmallBudget_EvictsLeastRecentlyUsedAndStaysCorrect()
    {
        using var model = Model.Load(models.Path(GgmlType.TQ2_0));
        // Ten pages: each request needs four while it runs, so the earlier requests' cached pages must make room.
        var options = new EngineOptions { Threads = 2, MaxSequences = 1, MaxBatchTokens = 64, PrefillChunk = 64, ContextSize = 256, KvCacheTokens = 640 };
        using var cached = new InferenceEngine(model, options);
        using var plain = new InferenceEngine(model, options with { PrefixCache = false });
        var prompts = Enumerable.Range(0, 5).Select(i => Tokens(200, seed: 100 + i)).ToArray();
        foreach (var p in prompts)
        {
            Assert.Equal(await Run(plain, p, 8), (await RunWithUsage(cached, p, 8)).Ids);
        }

        Assert.True(cached.KvCache.PagesEvictedTotal > 0, "no page was evicted");
        Assert.True(cached.KvCache.CachedPages <= 10);
        // The latest prompt is still cached; the first one's pages went first.
        Assert.Equal(192, (await RunWithUsage(cached, prompts[^1], 8)).Cached);
        var again = await RunWithUsage(cached, prompts[0], 8);
        Assert.Equal(0, again.Cached);
        Assert.Equal(await Run(plain, prompts[0], 8), again.Ids);
        Assert.Equal(0, cached.KvCache.PagesInUse);
    }

    [Fact]
    public async Task Generate_ConcurrentSequencesSharingPages_MatchWithoutCache()
    {
        using var model = Model.Load(models.Path(GgmlType.TQ2_0));
        using var cached = Engine(model, prefixCache: true, chunk: 8);
        using var plain = Engine(model, prefixCache: false, chunk: 8);
        var shared = Tokens(140, seed: 21);
        await Run(cached, Concat(shared, [5]), 1);
        var prompts = Enumerable.Range(0, 6).Select(i => Concat(shared, Tokens(10 + i * 7, seed: 30 + i))).ToArray();
        var runs = await Task.WhenAll(prompts.Select(p => RunWithUsage(cached, p, 12))).WaitAsync(Deadline);
        for (var i = 0; i < prompts.Length; i++)
        {
            Assert.Equal(128, runs[i].Cached);
            Assert.Equal(await Run(plain, prompts[i], 12), runs[i].Ids);
        }

        Assert.Equal(0, cached.KvCache.PagesInUse);
    }

    [Fact]
    public async Task Generate_CancelledMidPrefill_LeavesOnlyCorrectPagesCached()
    {
        using var model = Model.Load(models.Path(GgmlType.TQ2_0));
        using var plain = Engine(model, prefixCache: false);
        var prompt = Tokens(480, seed: 41);
        // The cancel has to land mid-prefill. The tiny model's remaining 330 prompt tokens can finish between two 5 ms
        // polls on a busy machine: then nothing was cancelled, and the scenario runs again on a fresh engine, whose cache
        // holds none of this prompt (a few times at most).
        for (var attempt = 1; ; attempt++)
        {
            using var cached = Engine(model, prefixCache: true, chunk: 8);
            var cancelled = false;
            using (var cancel = new CancellationTokenSource())
            {
                var run = RunWithUsage(cached, prompt, 8, cancel.Token);
                await WaitUntil(() => cached.PromptTokensProcessed >= 150);
                await cancel.CancelAsync();
                try
                {
                    await run.WaitAsync(Deadline);
                }
                catch (OperationCanceledException)
                {
                    cancelled = true;
                }
            }

            if (!cancelled && attempt < 5)
            {
                continue;
            }

            Assert.True(cancelled, "every attempt's prompt finished before the cancellation reached it");
            await WaitUntil(() => cached.ActiveSequences == 0 && cached.KvCache.PagesInUse == 0);
            var after = await RunWithUsage(cached, prompt, 8);
            Assert.True(after.Cached >= 128, $"cached {after.Cached}");
            Assert.Equal(await Run(plain, prompt, 8), after.Ids);
            return;
        }
    }

    [Fact]
    public async Task Generate_PromptLogprobs_MapsNothingButScoresEveryToken()
    {
        using var model = Model.Load(models.Path(GgmlType.TQ2_0));
        using var cached = Engine(model, prefixCache: true);
        var prompt = Tokens(130, seed: 51);
        await Run(cached, prompt, 2);
        var request = new GenerationRequest
        {
            PromptTokens = prompt, MaxTokens = 1, IgnoreEos = true, PromptLogprobs = true, Sampling = Greedy with { Logprobs = true },
        };
        GenerationUpdate? first = null;
        await foreach (var u in cached.GenerateAsync(request).WithCancellation(CancellationToken.None))
        {
            first ??= u;
        }

        Assert.Equal(0, first!.CachedPromptTokens);
        Assert.All(first.PromptLogprobs!.Skip(1), p => Assert.NotNull(p.Logprob));
    }

    [Fact]
    public async Task Generate_WiderModel_SameGreedyTokensAsWithoutCache()
    {
        var shape = new SyntheticShape("wider", 512, 4, 8, 4, 1024, 2048, 1024, Activation.Silu);
        var path = TestPaths.TempFile();
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        SyntheticModel.Write(path, shape, GgmlType.TQ2_0, seed: 3);
        try
        {
            using var model = Model.Load(path);
            using var cached = Engine(model, prefixCache: true, chunk: 32);
            using var plain = Engine(model, prefixCache: false, chunk: 32);
            var system = Tokens(300, seed: 61, vocab: 2000);
            foreach (var tail in new[] { 5, 40, 90 })
            {
                var prompt = Concat(system, Tokens(tail, seed: 62 + tail, vocab: 2000));
                Assert.Equal(await Run(plain, prompt, 12), (await RunWithUsage(cached, prompt, 12)).Ids);
            }

            Assert.True(cached.CachedPromptTokens >= 2 * 256, $"cached prompt tokens {cached.CachedPromptTokens}");
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static InferenceEngine Engine(Model model, bool prefixCache, int chunk = 32) =>
        new(model, new EngineOptions { Threads = 2, MaxSequences = 8, MaxBatchTokens = 64, PrefillChunk = chunk, PrefixCache = prefixCache });

    /// <summary>Deterministic token ids clear of the synthetic vocabulary's first (special) ids.</summary>
    private static int[] Tokens(int count, int seed, int vocab = 1000)
    {
        var random = new Random(seed);
        var tokens = new int[count];
        for (var i = 0; i < count; i++)
        {
            tokens[i] = random.Next(16, vocab);
        }

        return tokens;
    }

    private static int[] Concat(int[] a, int[] b) => [.. a, .. b];

    private static async Task<List<int>> Run(InferenceEngine engine, int[] prompt, int tokens) => (await RunWithUsage(engine, prompt, tokens)).Ids;

    private static async Task<(List<int> Ids, int Cached)> RunWithUsage(InferenceEngine engine, int[] prompt, int tokens, CancellationToken cancellationToken = default)
    {
        var ids = new List<int>();
        var cached = -1;
        var request = new GenerationRequest { PromptTokens = prompt, MaxTokens = tokens, IgnoreEos = true, Sampling = Greedy };
        await foreach (var u in engine.GenerateAsync(request, cancellationToken).WithCancellation(cancellationToken))
        {
            ids.Add(u.TokenId);
            cached = u.CachedPromptTokens;
        }

        return (ids, cached);
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        using var timeout = new CancellationTokenSource(Deadline);
        while (!condition())
        {
            await Task.Delay(5, timeout.Token);
        }
    }
}
