using WrinkleFree.Inference.Batching;
using WrinkleFree.Inference.Gguf;
using WrinkleFree.Inference.Models;
using WrinkleFree.Inference.Sampling;
using WrinkleFree.Inference.Tests.Models;
using WrinkleFree.Inference.Threading;

namespace WrinkleFree.Inference.Tests.Batching;

[Collection(SyntheticModelCollection.Name)]
public sealed class InferenceEngineTests(SyntheticModelFixture models)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    private static readonly SamplingOptions Greedy = new() { Temperature = 0 };

    private static readonly string[] Prompts =
    [
        "Once upon a time",
        "The quick brown fox jumps over the lazy dog and keeps on running through the field",
        "It was",
        "In the beginning there was the word, and the word was with the model",
        "Hello",
    ];

    [Fact]
    public async Task Generate_ConcurrentSequencesWithChunkedPrefill_MatchOneAtATimeGreedy()
    {
        using var model = Model.Load(models.Path(GgmlType.TQ2_0));
        using var engine = new InferenceEngine(model, new EngineOptions { Threads = 2, MaxSequences = 8, MaxBatchTokens = 16, PrefillChunk = 4 });
        var prompts = Prompts.Select(p => model.Tokenizer.Encode(p)).ToArray();
        var runs = prompts.Select(p => Collect(engine, new GenerationRequest { PromptTokens = p, MaxTokens = 12, IgnoreEos = true, Sampling = Greedy })).ToArray();
        var results = await Task.WhenAll(runs).WaitAsync(Deadline);
        for (var i = 0; i < prompts.Length; i++)
        {
            Assert.Equal(ModelHarness.Greedy(model, prompts[i], 12), results[i].Ids);
            Assert.Equal(FinishReason.Length, results[i].Finish);
            Assert.Equal(12, results[i].Last.CompletionTokens);
            Assert.Equal(prompts[i].Length, results[i].Last.PromptTokens);
        }

        Assert.Equal(0, engine.KvCache.PagesInUse);
    }

    [Fact]
    public async Task Generate_SameSeed_SameTokens_DifferentSeed_Differs()
    {
        using var model = Model.Load(models.Path(GgmlType.TQ2_0));
        using var engine = new InferenceEngine(model, new EngineOptions { Threads = 2, MaxSequences = 4 });
        var prompt = model.Tokenizer.Encode("Once upon a time");
        GenerationRequest Request(ulong seed) => new()
        {
            PromptTokens = prompt, MaxTokens = 24, IgnoreEos = true, Sampling = new SamplingOptions { Temperature = 1.5f, Seed = seed },
        };
        var a = await Collect(engine, Request(1)).WaitAsync(Deadline);
        var b = await Collect(engine, Request(1)).WaitAsync(Deadline);
        var c = await Collect(engine, Request(2)).WaitAsync(Deadline);
        Assert.Equal(a.Ids, b.Ids);
        Assert.NotEqual(a.Ids, c.Ids);
    }

    [Fact]
    public async Task Generate_CancelledMidStream_FreesSlotAndKvPages()
    {
        using var model = Model.Load(models.Path(GgmlType.TQ2_0));
        using var engine = new InferenceEngine(model, new EngineOptions { Threads = 2, MaxSequences = 2 });
        using var cts = new CancellationTokenSource();
        var prompt = model.Tokenizer.Encode("Once upon a time");
        var received = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var _ in engine.GenerateAsync(new GenerationRequest { PromptTokens = prompt, MaxTokens = 400, IgnoreEos = true, Sampling = Greedy }, cts.Token))
            {
                if (++received == 3)
                {
                    await cts.CancelAsync();
                }
            }
        }).WaitAsync(Deadline);
        await WaitUntil(() => engine.ActiveSequences == 0 && engine.KvCache.PagesInUse == 0);
        // The slot is usable again.
        var next = await Collect(engine, new GenerationRequest { PromptTokens = prompt, MaxTokens = 3, IgnoreEos = true, Sampling = Greedy }).WaitAsync(Deadline);
        Assert.Equal(3, next.Ids.Count);
    }

    [Fact]
    public void Generate_PromptLongerThanContext_ThrowsNamingTheLimit()
    {
        using var model = Model.Load(models.Path(GgmlType.TQ2_0));
        using var engine = new InferenceEngine(model, new EngineOptions { Threads = 1, MaxSequences = 1, ContextSize = 32 });
        var prompt = Enumerable.Repeat(5, 40).ToArray();
        var e = Assert.Throws<ContextLengthExceededException>(() => engine.GenerateAsync(new GenerationRequest { PromptTokens = prompt }));
        Assert.Contains("32", e.Message);
        Assert.Throws<ArgumentException>(() => engine.GenerateAsync(new GenerationRequest { PromptTokens = [model.Config.VocabSize + 5] }));
        Assert.Throws<ArgumentException>(() => engine.GenerateAsync(new GenerationRequest { PromptTokens = [] }));
    }

    [Fact]
    public async Task Generate_ReachesContextLimit_FinishesWithLength()
    {
        using var model = Model.Load(models.Path(GgmlType.TQ2_0));
        using var engine = new InferenceEngine(model, new EngineOptions { Threads = 1, MaxSequences = 1, ContextSize = 20 });
        var prompt = model.Tokenizer.Encode("Once upon a time");
        var result = await Collect(engine, new GenerationRequest { PromptTokens = prompt, MaxTokens = null, IgnoreEos = true, Sampling = Greedy }).WaitAsync(Deadline);
        Assert.Equal(FinishReason.Length, result.Finish);
        Assert.Equal(20 - prompt.Length, result.Ids.Count);
    }

    [Fact]
    public async Task Generate_StopString_EndsTextBeforeIt()
    {
        using var model = Model.Load(models.Path(GgmlType.TQ2_0));
        using var engine = new InferenceEngine(model, new EngineOptions { Threads = 2, MaxSequences = 2 });
        var prompt = model.Tokenizer.Encode("The quick brown fox");
        var free = await Collect(engine, new GenerationRequest { PromptTokens = prompt, MaxTokens = 20, IgnoreEos = true, Sampling = Greedy }).WaitAsync(Deadline);
        Assert.True(free.Text.Length >= 6, $"greedy text too short to pick a stop from: '{free.Text}'");
        var stop = free.Text.Substring(free.Text.Length / 2, 2);
        var expected = free.Text[..free.Text.IndexOf(stop, StringComparison.Ordinal)];
        var stopped = await Collect(engine, new GenerationRequest { PromptTokens = prompt, MaxTokens = 20, IgnoreEos = true, Stop = [stop], Sampling = Greedy }).WaitAsync(Deadline);
        Assert.Equal(expected, stopped.Text);
        Assert.Equal(FinishReason.Stop, stopped.Finish);
    }

    [Fact]
    public void Forward_DecodeStepInSteadyState_AllocatesNothing()
    {
        using var model = Model.Load(models.Path(GgmlType.I2_S));
        using var pool = new WorkerPool(1);
        var runner = new ModelRunner(model, pool, 4);
        var cache = new KvCache(model.Config, 512);
        using var seq = cache.CreateSequence(512);
        var logits = new float[4 * model.Config.VocabSize];
        var step = new StepToken[1];
        SteadyState.AssertAllocatesNothing(i =>
        {
            step[0] = new StepToken(i + 1, i, seq, true);
            runner.Forward(step, logits);
        }, iterations: 32, warmUp: 8);
    }

    [Fact]
    public async Task PromptLogprobs_MatchLogSoftmaxOfEachPrefix_WhileOtherSequencesDecode()
    {
        using var model = Model.Load(models.Path(GgmlType.TQ2_0));
        // 4 logit rows' worth of sequences and a 32-row floor: a 40-token prompt must be scored over several steps.
        using var engine = new InferenceEngine(model, new EngineOptions { Threads = 2, MaxSequences = 4, MaxBatchTokens = 48, PrefillChunk = 48 });
        var prompt = model.Tokenizer.Encode(string.Join(' ', Prompts));
        Assert.True(prompt.Length > 32, $"the prompt has {prompt.Length} tokens; it should need more than one step of rows");
        var background = Collect(engine, new GenerationRequest { PromptTokens = model.Tokenizer.Encode("It was"), MaxTokens = 30, IgnoreEos = true, Sampling = Greedy });
        var scored = await Collect(engine, new GenerationRequest
        {
            PromptTokens = prompt, MaxTokens = 2, IgnoreEos = true, PromptLogprobs = true,
            Sampling = new SamplingOptions { Temperature = 0, Logprobs = true, TopLogprobs = 3 },
        }).WaitAsync(Deadline);
        await background.WaitAsync(Deadline);

        var scores = scored.First.PromptLogprobs!;
        Assert.Equal(prompt.Length, scores.Length);
        Assert.Equal(prompt, scores.Select(s => s.TokenId).ToArray());
        Assert.Null(scores[0].Logprob);
        var reference = ModelHarness.Logits(model, prompt);
        for (var i = 1; i < prompt.Length; i++)
        {
            var row = reference[i - 1];
            var max = row.Max();
            var logSumExp = max + Math.Log(row.Sum(v => Math.Exp(v - max)));
            Assert.Equal(row[prompt[i]] - logSumExp, scores[i].Logprob!.Value, 1e-4 * Math.Max(1, Math.Abs(logSumExp)));
            Assert.Equal(3, scores[i].TopLogprobs.Length);
            var best = Array.IndexOf(row, max);
            Assert.Equal(best, scores[i].TopLogprobs[0].TokenId);
            Assert.True(scores[i].TopLogprobs[0].Logprob >= scores[i].Logprob!.Value - 1e-4f);
        }

        // The continuation is what greedy decoding of the prompt gives; only the first update carries the scores.
        Assert.Equal(ModelHarness.Greedy(model, prompt, 2), scored.Ids);
        Assert.Null(scored.Last.PromptLogprobs);
        Assert.Equal(0, engine.KvCache.PagesInUse);
    }

    [Fact]
    public async Task PromptScoring_UsingEveryLogitRow_DoesNotCrowdOutOtherPromptsLastPositions()
    {
        using var model = Model.Load(models.Path(GgmlType.TQ2_0));
        // 32 logit rows; a scored prompt takes all of them in a step, while short prompts behind it also reach their last
        // position (which needs a row) in the same steps.
        using var engine = new InferenceEngine(model, new EngineOptions { Threads = 2, MaxSequences = 4, MaxBatchTokens = 96, PrefillChunk = 96 });
        var longPrompt = model.Tokenizer.Encode(string.Join(' ', Prompts.Concat(Prompts)));
        Assert.True(longPrompt.Length > 64, $"{longPrompt.Length} prompt tokens");
        var scored = Collect(engine, new GenerationRequest
        {
            PromptTokens = longPrompt, MaxTokens = 1, PromptLogprobs = true, Sampling = new SamplingOptions { Temperature = 0, Logprobs = true },
        });
        var shortOnes = Enumerable.Range(0, 3).Select(i => Collect(engine, new GenerationRequest
        {
            PromptTokens = model.Tokenizer.Encode(Prompts[i]), MaxTokens = 3, IgnoreEos = true, Sampling = Greedy,
        })).ToArray();

        var results = await Task.WhenAll(shortOnes.Append(scored)).WaitAsync(Deadline);
        Assert.All(results, r => Assert.NotNull(r.Finish));
        Assert.Equal(longPrompt.Length, results[^1].First.PromptLogprobs!.Length);
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(ModelHarness.Greedy(model, model.Tokenizer.Encode(Prompts[i]), 3), results[i].Ids);
        }
    }

    [Fact]
    public async Task MaxTokensZero_ScoresThePromptAndEndsWithLength_WithoutSampling()
    {
        using var model = Model.Load(models.Path(GgmlType.TQ2_0));
        using var engine = new InferenceEngine(model, new EngineOptions { Threads = 2, MaxSequences = 2 });
        var prompt = model.Tokenizer.Encode("Once upon a time");
        var result = await Collect(engine, new GenerationRequest
        {
            PromptTokens = prompt, MaxTokens = 0, PromptLogprobs = true, Sampling = new SamplingOptions { Logprobs = true },
        }).WaitAsync(Deadline);

        Assert.Empty(result.Ids);
        Assert.Equal(FinishReason.Length, result.Finish);
        Assert.Equal(0, result.Last.CompletionTokens);
        Assert.Equal(prompt.Length, result.Last.PromptLogprobs!.Length);
        Assert.All(result.Last.PromptLogprobs[1..], s => Assert.True(s.Logprob < 0));
        Assert.Equal(0, engine.GeneratedTokens);
    }

    [Fact]
    public void PromptLogprobs_WithoutLogprobs_IsRejectedBeforeQueueing()
    {
        using var model = Model.Load(models.Path(GgmlType.TQ2_0));
        using var engine = new InferenceEngine(model, new EngineOptions { Threads = 1, MaxSequences = 1 });
        var e = Assert.Throws<ArgumentException>(() => engine.GenerateAsync(new GenerationRequest { PromptTokens = [1, 2], PromptLogprobs = true }));
        Assert.Contains("logprobs", e.Message);
        Assert.Equal(0, engine.QueuedSequences);
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        using var timeout = new CancellationTokenSource(Deadline);
        while (!condition())
        {
            await Task.Delay(10, timeout.Token);
        }
    }

    private static async Task<Result> Collect(InferenceEngine engine, GenerationRequest request)
    {
        var ids = new List<int>();
        var text = new System.Text.StringBuilder();
        GenerationUpdate? first = null;
        GenerationUpdate? last = null;
        await foreach (var u in engine.GenerateAsync(request))
        {
            first ??= u;
            if (u.TokenId >= 0)
            {
                ids.Add(u.TokenId);
            }

            text.Append(u.Text);
            last = u;
        }

        return new Result(ids, text.ToString(), last!.FinishReason, first!, last);
    }

    private sealed record Result(List<int> Ids, string Text, FinishReason? Finish, GenerationUpdate First, GenerationUpdate Last);
}
