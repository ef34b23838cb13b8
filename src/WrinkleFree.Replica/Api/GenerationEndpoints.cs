using System.Buffers;
using System.IO.Pipelines;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.AspNetCore.Http;
using WrinkleFree.Replica.Backends;

namespace WrinkleFree.Replica.Api;

/// <summary>
/// POST /v1/completions and /v1/chat/completions: parse, fan out one backend generation per choice, then answer with one
/// JSON body or an SSE stream flushed per token. Every choice's first event is awaited before the status is sent, so the
/// errors a backend raises up front (queue full, context too long) become the HTTP status rather than a broken stream.
/// </summary>
internal static class GenerationEndpoints
{
    private static ReadOnlySpan<byte> DataPrefix => "data: "u8;

    private static ReadOnlySpan<byte> EventEnd => "\n\n"u8;

    private static ReadOnlySpan<byte> Done => "data: [DONE]\n\n"u8;

    public static Task CompletionsAsync(HttpContext http, ReplicaContext replica) => HandleAsync(http, replica, chat: false);

    public static Task ChatAsync(HttpContext http, ReplicaContext replica) => HandleAsync(http, replica, chat: true);

    private static async Task HandleAsync(HttpContext http, ReplicaContext replica, bool chat)
    {
        var started = replica.Time.GetTimestamp();
        ParsedRequest request;
        using (var body = await JsonBody.ReadAsync(http, replica.Options.MaxRequestBodyBytes).ConfigureAwait(false))
        {
            request = chat ? RequestParser.ParseChat(body.RootElement) : RequestParser.ParseCompletion(body.RootElement);
        }

        replica.CheckModel(request.Model);
        replica.CheckAccepting();
        var id = (chat ? "chatcmpl-" : "cmpl-") + Guid.NewGuid().ToString("N");
        var json = new ResponseJson(chat, id, replica.Time.GetUtcNow().ToUnixTimeSeconds(), replica.Backend.ModelId);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted);
        var choices = new ChoiceRun[request.Choices.Count];
        try
        {
            for (var i = 0; i < choices.Length; i++)
            {
                choices[i] = new ChoiceRun(i, replica, started, replica.Backend.GenerateAsync(request.Choices[i], cancel.Token).GetAsyncEnumerator(cancel.Token));
            }

            var firsts = new Task[choices.Length];
            for (var i = 0; i < choices.Length; i++)
            {
                firsts[i] = choices[i].MoveNextAsync().AsTask();
            }

            try
            {
                await Task.WhenAll(firsts).ConfigureAwait(false);
            }
            catch
            {
                // One choice failed before anything was sent: stop the others and answer with its error.
                await cancel.CancelAsync().ConfigureAwait(false);
                throw;
            }

            if (request.Stream)
            {
                await StreamAsync(http, request, json, choices, cancel).ConfigureAwait(false);
            }
            else
            {
                await CompleteAsync(http, request, json, choices).ConfigureAwait(false);
            }

            if (!ReplicaContext.InWarmUp)
            {
                replica.Metrics.RequestDuration.WithLabels(http.Request.Path.Value!).Observe(replica.Time.GetElapsedTime(started).TotalSeconds);
            }
        }
        finally
        {
            // Disposing an unfinished enumeration cancels its sequence in the engine and frees the slot at once.
            foreach (var c in choices)
            {
                if (c is not null)
                {
                    await c.DisposeAsync().ConfigureAwait(false);
                }
            }

            RecordUsage(http, request, choices);
        }
    }

    /// <summary>Fills the request's <see cref="RequestUsage"/> (for the access log) with what its choices used so far.</summary>
    private static void RecordUsage(HttpContext http, ParsedRequest request, ChoiceRun[] choices)
    {
        if (http.Features.Get<RequestUsage>() is not { } used)
        {
            return;
        }

        // Choices are created in order, so the ones that exist are a prefix and Usage's per-prompt counting holds.
        var started = choices.TakeWhile(c => c is not null).ToList();
        var usage = Usage(request, started.Select(c => (c.PromptTokens, c.CompletionTokens, c.CachedPromptTokens)));
        used.PromptTokens = usage.PromptTokens;
        used.GeneratedTokens = usage.CompletionTokens;
        used.TimeToFirstToken = started.Select(c => c.TimeToFirstToken).Where(t => t is not null).Min();
    }

    private static async Task CompleteAsync(HttpContext http, ParsedRequest request, ResponseJson json, ChoiceRun[] choices)
    {
        var results = new ChoiceResult[choices.Length];
        var runs = new Task[choices.Length];
        for (var i = 0; i < choices.Length; i++)
        {
            results[i] = new ChoiceResult();
            runs[i] = choices[i].DrainAsync(results[i], request.Logprobs);
        }

        await Task.WhenAll(runs).ConfigureAwait(false);
        // Every candidate's tokens were generated: usage counts them all, as OpenAI bills best_of.
        var usage = Usage(request, results.Select(r => (r.PromptTokens, r.CompletionTokens, r.CachedPromptTokens)));
        results = BestOf(results, request.N, request.Returned);
        if (!ReplicaContext.InWarmUp)
        {
            choices[0].Replica.Metrics.PromptTokens.Inc(usage.PromptTokens);
        }
        http.Response.StatusCode = StatusCodes.Status200OK;
        http.Response.ContentType = "application/json";
        var writer = new Utf8JsonWriter(http.Response.BodyWriter);
        await using (writer.ConfigureAwait(false))
        {
            json.WriteResponse(writer, results, request.Logprobs, usage);
            await writer.FlushAsync(http.RequestAborted).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Of each prompt's <paramref name="candidates"/> choices (prompt-major), the <paramref name="returned"/> with the
    /// highest cumulative logprob, best first (ties: the earlier candidate), as OpenAI's best_of returns them.
    /// </summary>
    internal static ChoiceResult[] BestOf(ChoiceResult[] results, int candidates, int returned)
    {
        if (returned >= candidates)
        {
            return results;
        }

        var best = new ChoiceResult[results.Length / candidates * returned];
        for (var prompt = 0; prompt * candidates < results.Length; prompt++)
        {
            var ranked = results.Skip(prompt * candidates).Take(candidates)
                .Select((r, i) => (Result: r, Index: i))
                .OrderByDescending(x => x.Result.CumulativeLogprob).ThenBy(x => x.Index)
                .Take(returned);
            var j = 0;
            foreach (var (result, _) in ranked)
            {
                best[prompt * returned + j++] = result;
            }
        }

        return best;
    }

    private static async Task StreamAsync(HttpContext http, ParsedRequest request, ResponseJson json, ChoiceRun[] choices, CancellationTokenSource cancel)
    {
        var response = http.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-cache";
        // Tells nginx-style proxies not to buffer the stream.
        response.Headers["X-Accel-Buffering"] = "no";
        var body = response.BodyWriter;
        var writer = new Utf8JsonWriter(body);
        await using (writer.ConfigureAwait(false))
        {
            try
            {
                if (choices.Length == 1)
                {
                    // The common case streams straight from the one enumeration, without a merge channel.
                    var c = choices[0];
                    var more = true;
                    while (more)
                    {
                        if (c.ShouldSend(request.Logprobs))
                        {
                            WriteChunk(body, writer, c, json, request.Logprobs);
                        }

                        // Every token is its own event, but a flush (a socket write) is skipped while the next token is
                        // already waiting: a client that fell behind catches up in one write instead of many.
                        var next = c.MoveNextAsync();
                        if (!next.IsCompleted)
                        {
                            await body.FlushAsync(http.RequestAborted).ConfigureAwait(false);
                        }

                        more = await next.ConfigureAwait(false);
                    }
                }
                else
                {
                    await StreamMergedAsync(http, request, json, choices, body, writer, cancel).ConfigureAwait(false);
                }

                if (request.IncludeUsage)
                {
                    var usage = Usage(request, choices.Select(c => (c.PromptTokens, c.CompletionTokens, c.CachedPromptTokens)));
                    writer.Reset(body);
                    body.Write(DataPrefix);
                    json.WriteUsageChunk(writer, usage);
                    writer.Flush();
                    body.Write(EventEnd);
                }

                if (!ReplicaContext.InWarmUp)
                {
                    choices[0].Replica.Metrics.PromptTokens.Inc(Usage(request, choices.Select(c => (c.PromptTokens, c.CompletionTokens, c.CachedPromptTokens))).PromptTokens);
                }
            }
            catch (Exception e) when (!http.RequestAborted.IsCancellationRequested)
            {
                // The status is already sent: report the error as a last event, as vLLM does, rather than ending the
                // stream in a way a client cannot tell from a finished one.
                var error = e as BackendException;
                if (error is null)
                {
                    Log.StreamFailed(choices[0].Replica.Logger, http.Request.Path.Value ?? "", e);
                    error = new BackendException(500, "server_error", "generation failed: " + e.Message);
                }

                writer.Reset(body);
                body.Write(DataPrefix);
                ApiErrors.WriteObject(writer, error);
                writer.Flush();
                body.Write(EventEnd);
            }

            body.Write(Done);
            await body.FlushAsync(http.RequestAborted).ConfigureAwait(false);
        }
    }

    private static async Task StreamMergedAsync(HttpContext http, ParsedRequest request, ResponseJson json, ChoiceRun[] choices,
        PipeWriter body, Utf8JsonWriter writer, CancellationTokenSource cancel)
    {
        // Not SingleReader: that variant cannot report Count, which decides when to flush.
        var ready = Channel.CreateUnbounded<ChoiceRun>();
        var gates = new SemaphoreSlim[choices.Length];
        var pumps = new Task[choices.Length];
        for (var i = 0; i < choices.Length; i++)
        {
            gates[i] = new SemaphoreSlim(0);
            pumps[i] = Pump(choices[i], gates[i]);
        }

        // Each pump hands its current event to the writer and waits until it is written before moving on, so a choice's
        // Current is never overwritten while the writer reads it.
        async Task Pump(ChoiceRun c, SemaphoreSlim gate)
        {
            do
            {
                await ready.Writer.WriteAsync(c, cancel.Token).ConfigureAwait(false);
                await gate.WaitAsync(cancel.Token).ConfigureAwait(false);
            }
            while (await c.MoveNextAsync().ConfigureAwait(false));
        }

        var all = Task.WhenAll(pumps);
        _ = all.ContinueWith(t => ready.Writer.TryComplete(t.Exception?.GetBaseException()), TaskScheduler.Default);
        try
        {
            await foreach (var c in ready.Reader.ReadAllAsync(http.RequestAborted).ConfigureAwait(false))
            {
                if (c.ShouldSend(request.Logprobs))
                {
                    WriteChunk(body, writer, c, json, request.Logprobs);
                }

                gates[c.Index].Release();
                if (ready.Reader.Count == 0)
                {
                    await body.FlushAsync(http.RequestAborted).ConfigureAwait(false);
                }
            }
        }
        catch
        {
            await cancel.CancelAsync().ConfigureAwait(false);
            throw;
        }
        finally
        {
            try
            {
                await all.ConfigureAwait(false);
            }
            catch (Exception) when (cancel.IsCancellationRequested)
            {
                // The pumps stop with the cancellation that the first failure caused; that failure is what propagates.
            }

            foreach (var g in gates)
            {
                g.Dispose();
            }
        }
    }

    private static void WriteChunk(PipeWriter body, Utf8JsonWriter writer, ChoiceRun c, ResponseJson json, bool logprobs)
    {
        writer.Reset(body);
        body.Write(DataPrefix);
        json.WriteChunk(writer, c.Index, c.Current, c.SentCount == 0, logprobs, c.TextLength);
        writer.Flush();
        body.Write(EventEnd);
        c.Sent();
    }

    private static ResponseJson.Usage Usage(ParsedRequest request, IEnumerable<(int Prompt, int Completion, int Cached)> choices)
    {
        // n choices of one prompt read the prompt once: count it once per prompt, as the OpenAI API does.
        int prompt = 0, completion = 0, cached = 0, i = 0;
        foreach (var (p, c, k) in choices)
        {
            if (i++ % request.N == 0)
            {
                prompt += p;
                cached += k;
            }

            completion += c;
        }

        return new ResponseJson.Usage(prompt, completion, cached);
    }

    /// <summary>One choice's enumeration, recording TTFT, inter-token latency and token counts as events arrive.</summary>
    private sealed class ChoiceRun(int index, ReplicaContext replica, long startedAt, IAsyncEnumerator<GenerationEvent> events) : IAsyncDisposable
    {
        // Read once per choice, not per token: the replica's warm-up requests are not clients', so they stay out of the metrics.
        private readonly bool _counted = !ReplicaContext.InWarmUp;
        private long _lastTokenAt;
        private int _textLength;
        private int _pendingText;

        public int Index { get; } = index;

        public ReplicaContext Replica { get; } = replica;

        public GenerationEvent Current => events.Current;

        public int PromptTokens { get; private set; }

        public int CompletionTokens { get; private set; }

        public int CachedPromptTokens { get; private set; }

        public int SentCount { get; private set; }

        /// <summary>Request arrival to this choice's first generated token; null before it.</summary>
        public TimeSpan? TimeToFirstToken { get; private set; }

        /// <summary>Characters of this choice's text sent before the current event (completions' text_offset).</summary>
        public int TextLength => _textLength;

        public async ValueTask<bool> MoveNextAsync()
        {
            if (!await events.MoveNextAsync().ConfigureAwait(false))
            {
                return false;
            }

            var e = events.Current;
            PromptTokens = Math.Max(PromptTokens, e.PromptTokens);
            CompletionTokens = Math.Max(CompletionTokens, e.CompletionTokens);
            CachedPromptTokens = Math.Max(CachedPromptTokens, e.CachedPromptTokens);
            // A generated piece (the vllm backend's pieces carry text but no token id); echoed prompt text is not one.
            if (!e.IsEcho && (e.TokenId >= 0 || e.Text.Length > 0) && _counted)
            {
                var now = Replica.Time.GetTimestamp();
                var metrics = Replica.Metrics;
                if (_lastTokenAt == 0)
                {
                    TimeToFirstToken = Replica.Time.GetElapsedTime(startedAt, now);
                    var ttft = TimeToFirstToken.Value.TotalSeconds;
                    metrics.TimeToFirstToken.Observe(ttft);
                    Replica.Stats.AddTimeToFirstToken(ttft);
                }
                else
                {
                    metrics.InterTokenLatency.Observe(Replica.Time.GetElapsedTime(_lastTokenAt, now).TotalSeconds);
                }

                _lastTokenAt = now;
                metrics.GeneratedTokens.Inc();
                Replica.Stats.AddGeneratedTokens(1);
            }

            _pendingText = e.Text.Length;
            return true;
        }

        /// <summary>Empty pieces (text held back mid-character or mid-stop-string) are skipped unless they carry logprobs or the end.</summary>
        public bool ShouldSend(bool logprobs)
        {
            var e = events.Current;
            return e.Text.Length > 0 || e.FinishReason is not null || SentCount == 0 || (logprobs && e.HasLogprobEntry) || e.ToolCalls is not null;
        }

        public void Sent()
        {
            SentCount++;
            _textLength += _pendingText;
            _pendingText = 0;
        }

        public async Task DrainAsync(ChoiceResult result, bool logprobs)
        {
            do
            {
                result.Add(events.Current, logprobs);
            }
            while (await MoveNextAsync().ConfigureAwait(false));
        }

        public ValueTask DisposeAsync() => events.DisposeAsync();
    }
}
