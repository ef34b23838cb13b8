using WrinkleFree.Replica.Backends;
using static WrinkleFree.Replica.Tests.Backends.Vllm.VllmTestSupport;

namespace WrinkleFree.Replica.Tests.Backends.Vllm;

/// <summary>The vllm backend bounds requests in flight itself (the upstream would queue without limit): the excess gets 429 at once.</summary>
public sealed class VllmAdmissionTests
{
    [Fact]
    public async Task GenerateAsync_OverMaxInFlight_429QueueFullAtOnceAndAcceptedAgainWhenOneEnds()
    {
        await using var fake = await StartFakeAsync();
        await using var backend = await StartReadyAsync(FastOptions(fake.BaseUrl) with { MaxInFlight = 2 });
        using var cts = new CancellationTokenSource();
        var running = new List<IAsyncEnumerator<GenerationEvent>>();
        for (var i = 0; i < 2; i++)
        {
            // The fake stalls after one token until the client leaves: each holds its place.
            var stream = backend.GenerateAsync(new GenerationInput { PromptText = "[hang]", MaxTokens = 8 }, cts.Token).GetAsyncEnumerator(CancellationToken.None);
            Assert.True(await stream.MoveNextAsync().AsTask().WaitAsync(Deadline));
            running.Add(stream);
        }

        var refused = await Assert.ThrowsAsync<BackendException>(() =>
            backend.GenerateAsync(new GenerationInput { PromptText = "hi", MaxTokens = 2 }, CancellationToken.None).GetAsyncEnumerator().MoveNextAsync().AsTask().WaitAsync(Deadline));

        Assert.Equal(429, refused.Status);
        Assert.Equal("queue_full", refused.Code);
        Assert.Equal(TimeSpan.FromSeconds(1), refused.RetryAfter);
        Assert.Equal(2, backend.InFlight);

        await cts.CancelAsync();
        foreach (var stream in running)
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => stream.MoveNextAsync().AsTask().WaitAsync(Deadline));
            await stream.DisposeAsync();
        }

        Assert.Equal(0, backend.InFlight);
        var events = await CollectAsync(backend.GenerateAsync(new GenerationInput { PromptText = "hi", MaxTokens = 2 }, CancellationToken.None));
        Assert.NotNull(events[^1].FinishReason);
    }
}
