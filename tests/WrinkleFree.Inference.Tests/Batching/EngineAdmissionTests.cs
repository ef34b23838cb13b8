using WrinkleFree.Inference.Batching;
using WrinkleFree.Inference.Gguf;
using WrinkleFree.Inference.Models;
using WrinkleFree.Inference.Sampling;
using WrinkleFree.Inference.Tests.Models;

namespace WrinkleFree.Inference.Tests.Batching;

/// <summary>
/// Admission is decided as a request arrives: a burst at a fresh engine (no slot taken yet, the loop not yet run) once
/// queued everything (limit 8, 196 queued); now it accepts the slots plus the queue and refuses the rest at once.
/// </summary>
[Collection(SyntheticModelCollection.Name)]
public sealed class EngineAdmissionTests(SyntheticModelFixture models)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task GenerateAsync_BurstAtAFreshEngine_AcceptsSlotsPlusQueueAndRefusesTheRest()
    {
        const int Slots = 2;
        const int Queue = 8;
        using var model = Model.Load(models.Path(GgmlType.TQ2_0));
        using var engine = new InferenceEngine(model, new EngineOptions { Threads = 1, MaxSequences = Slots, MaxQueue = Queue });
        var prompt = model.Tokenizer.Encode("Once upon a time");
        using var cancel = new CancellationTokenSource();
        var accepted = new List<IAsyncEnumerable<GenerationUpdate>>();
        var refused = new List<EngineOverloadedException>();

        // Long generations that cannot end during the burst: every acceptance holds its place until cancelled.
        for (var i = 0; i < 10 * (Slots + Queue); i++)
        {
            try
            {
                accepted.Add(engine.GenerateAsync(new GenerationRequest
                {
                    PromptTokens = prompt, MaxTokens = 100_000, IgnoreEos = true, Sampling = new SamplingOptions { Temperature = 0 },
                }, cancel.Token));
            }
            catch (EngineOverloadedException e)
            {
                refused.Add(e);
            }

            Assert.True(engine.QueuedSequences <= Queue, $"after request {i}: {engine.QueuedSequences} waiting, limit {Queue}");
        }

        Assert.Equal(Slots + Queue, accepted.Count);
        Assert.Equal(9 * (Slots + Queue), refused.Count);
        Assert.All(refused, e => Assert.Equal(Queue, e.Queued));

        // Cancelling frees the places: a new request is accepted again.
        await cancel.CancelAsync();
        foreach (var run in accepted)
        {
            await Drain(run).WaitAsync(Deadline);
        }

        await WaitUntil(() => engine.ActiveSequences == 0 && engine.QueuedSequences == 0);
        var again = engine.GenerateAsync(new GenerationRequest { PromptTokens = prompt, MaxTokens = 2, IgnoreEos = true, Sampling = new SamplingOptions { Temperature = 0 } });
        await Drain(again).WaitAsync(Deadline);
    }

    private static async Task Drain(IAsyncEnumerable<GenerationUpdate> run)
    {
        try
        {
            await foreach (var _ in run)
            {
            }
        }
        catch (OperationCanceledException)
        {
            // The burst's runs end by cancellation.
        }
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Deadline;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the engine never freed its places");
            await Task.Delay(10);
        }
    }
}
