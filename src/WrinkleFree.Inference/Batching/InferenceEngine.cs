using System.Runtime.CompilerServices;
using WrinkleFree.Inference.Models;
using WrinkleFree.Inference.Sampling;
using WrinkleFree.Inference.Threading;

namespace WrinkleFree.Inference.Batching;

/// <summary>
/// Continuous batching: one loop thread advances every active sequence by a step that shares a single pass over the
/// weights. Sequences join and leave between steps; prompts are fed in chunks interleaved with running decodes;
/// cancellation frees a sequence's slot and KV pages before the next step.
/// </summary>
public sealed class InferenceEngine : IDisposable
{
    private readonly Model _model;
    private readonly EngineOptions _options;
    private readonly TimeProvider _time;
    private readonly WorkerPool _pool;
    private readonly ModelRunner _runner;
    private readonly KvCache _kv;
    private readonly Queue<ActiveSequence> _pending = new();
    private readonly List<ActiveSequence> _active = [];
    private readonly List<StepToken> _step = [];
    private readonly List<ActiveSequence> _stepSequences = [];
    // One entry per logits row of a step: the sequence, and the prompt index whose token the row scores (-1: sample).
    private readonly List<(ActiveSequence Sequence, int ScoreIndex)> _logitOwners = [];
    private readonly float[] _logits;
    private readonly int _logitRows;
    private readonly SemaphoreSlim _signal = new(0);
    private readonly Thread _loop;
    private readonly int _contextLimit;
    private volatile bool _stopping;
    private long _generatedTokens;
    private long _promptTokens;
    private long _promptTokensAdmitted;
    private long _cachedPromptTokens;
    private long _steps;
    private long _weightBytes;

    public InferenceEngine(Model model, EngineOptions options, TimeProvider? time = null)
    {
        options.Validate();
        _model = model;
        _options = options;
        _time = time ?? TimeProvider.System;
        _contextLimit = options.ContextSize > 0 ? Math.Min(options.ContextSize, model.Config.ContextLength) : model.Config.ContextLength;
        var kvTokens = options.KvCacheTokens > 0 ? options.KvCacheTokens : Math.Min((long)options.MaxSequences * _contextLimit, 65536);
        _kv = new KvCache(model.Config, Math.Max(kvTokens, _contextLimit), options.PrefixCache, options.KvPrecision);
        _pool = new WorkerPool(options.Threads);
        _runner = new ModelRunner(model, _pool, options.MaxBatchTokens);
        // A row per decoding sequence, and at least 32 so that prompt scoring (every prompt position needs logits) advances
        // in useful chunks.
        _logitRows = Math.Min(options.MaxBatchTokens, Math.Max(options.MaxSequences, 32));
        _logits = new float[(long)_logitRows * model.Config.VocabSize <= int.MaxValue
            ? _logitRows * model.Config.VocabSize
            : throw new ArgumentException("logit rows x vocabulary is too large")];
        _loop = new Thread(Loop) { IsBackground = true, Name = "wf-engine" };
        _loop.Start();
        if (options.WarmUp)
        {
            try
            {
                WarmUpTime = WarmUpPasses();
            }
            catch
            {
                // The loop thread and the workers are running already: a constructor that throws must not leave them behind.
                Dispose();
                throw;
            }
        }
    }

    public Model Model => _model;

    /// <summary>How long the warm-up passes took (<see cref="EngineOptions.WarmUp"/>); zero without them.</summary>
    public TimeSpan WarmUpTime { get; }

    public int ContextLimit => _contextLimit;

    public int ActiveSequences { get { lock (_pending) { return _active.Count; } } }

    /// <summary>Sequences waiting for a slot (queued beyond the slots free at the next step); never above MaxQueue.</summary>
    public int QueuedSequences { get { lock (_pending) { return Waiting(); } } }

    public long GeneratedTokens => Interlocked.Read(ref _generatedTokens);

    /// <summary>Prompt tokens prefilled (computed); tokens served from the prefix cache are not counted.</summary>
    public long PromptTokensProcessed => Interlocked.Read(ref _promptTokens);

    /// <summary>Prompt tokens of every admitted sequence, cached or not.</summary>
    public long PromptTokensAdmitted => Interlocked.Read(ref _promptTokensAdmitted);

    /// <summary>Prompt tokens whose keys and values were mapped from the prefix cache instead of prefilled.</summary>
    public long CachedPromptTokens => Interlocked.Read(ref _cachedPromptTokens);

    public long Steps => Interlocked.Read(ref _steps);

    /// <summary>Weight bytes streamed by all steps so far (for bandwidth utilization).</summary>
    public long WeightBytesStreamed => Interlocked.Read(ref _weightBytes);

    public KvCache KvCache => _kv;

    /// <summary>
    /// Queues a sequence and streams its tokens. Validation errors (empty prompt, prompt over the context limit, full queue)
    /// throw here, before anything is queued. Cancelling <paramref name="cancellationToken"/> or abandoning the enumeration
    /// frees the sequence's slot before the next step.
    /// </summary>
    public IAsyncEnumerable<GenerationUpdate> GenerateAsync(GenerationRequest request, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_stopping, this);
        request.Sampling.Validate();
        if (request.PromptTokens.Length == 0)
        {
            throw new ArgumentException("the prompt is empty: give at least one token", nameof(request));
        }

        foreach (var t in request.PromptTokens)
        {
            if ((uint)t >= (uint)_model.Config.VocabSize)
            {
                throw new ArgumentException($"prompt token id {t} is outside the vocabulary (0..{_model.Config.VocabSize - 1})", nameof(request));
            }
        }

        if (request.MaxTokens is < 0)
        {
            throw new ArgumentException($"max_tokens = {request.MaxTokens} must be >= 0", nameof(request));
        }

        if (request.PromptLogprobs && !request.Sampling.Logprobs)
        {
            throw new ArgumentException("prompt logprobs need logprobs to be on", nameof(request));
        }

        var limit = Math.Min(request.ContextLimit ?? _contextLimit, _contextLimit);
        if (request.PromptTokens.Length >= limit)
        {
            throw new ContextLengthExceededException(request.PromptTokens.Length + 1, limit);
        }

        // Refused before the sequence's buffers are allocated, so a burst of refused requests costs next to nothing.
        lock (_pending)
        {
            ThrowIfFull();
        }

        var seq = new ActiveSequence(request, _model.Tokenizer, _model.Config.VocabSize, limit, _time.GetTimestamp());
        lock (_pending)
        {
            // Decided here, as the request arrives, not when the loop next admits: a burst at a fresh engine (no slot taken
            // yet) must not queue past the limit while the loop is busy.
            ThrowIfFull();
            _pending.Enqueue(seq);
        }

        _signal.Release();
        return Read(seq, cancellationToken);
    }

    /// <summary>Under the lock: refuses a new sequence that would wait (find no free slot) when MaxQueue already wait.</summary>
    private void ThrowIfFull()
    {
        var free = Math.Max(0, _options.MaxSequences - _active.Count);
        if (_pending.Count + 1 - free > _options.MaxQueue)
        {
            throw new EngineOverloadedException(Waiting());
        }
    }

    /// <summary>Under the lock: queued sequences that will not get a slot at the next step.</summary>
    private int Waiting() => Math.Max(0, _pending.Count - Math.Max(0, _options.MaxSequences - _active.Count));

    private async IAsyncEnumerable<GenerationUpdate> Read(ActiveSequence seq, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var registration = cancellationToken.Register(() =>
        {
            seq.Cancel();
            _signal.Release();
        });
        try
        {
            await foreach (var update in seq.Output.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                yield return update;
            }
        }
        finally
        {
            if (!seq.Done)
            {
                seq.Cancel();
                _signal.Release();
            }
        }
    }

    private void Loop()
    {
        while (!_stopping)
        {
            // Nothing may escape this thread: an unhandled exception here aborts the whole process (every request, /health).
            // A failure fails the sequences of the step it happened in, with the cause, and the loop goes on.
            try
            {
                // A failure before the step is built fails no sequence of an earlier step.
                _stepSequences.Clear();
                Admit();
                if (_active.Count == 0)
                {
                    _signal.Wait(TimeSpan.FromMilliseconds(200));
                    continue;
                }

                BuildStep();
                if (_step.Count == 0)
                {
                    continue;
                }

                _runner.Forward(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_step), _logits);
                Interlocked.Increment(ref _steps);
                Interlocked.Add(ref _weightBytes, _model.WeightBytesPerStep);
                Advance();
            }
            catch (Exception e)
            {
                FailStep(e as SequenceFaultException ?? new SequenceFaultException($"the engine failed while serving this request: {e.Message}", e));
                if (_stepSequences.Count == 0)
                {
                    // Nothing to blame: pause rather than spin if the failure repeats.
                    _signal.Wait(TimeSpan.FromMilliseconds(200));
                }
            }
        }

        lock (_pending)
        {
            foreach (var s in _active.Concat(_pending))
            {
                Finish(s, new ObjectDisposedException(nameof(InferenceEngine), "the engine is shutting down"));
            }

            _active.Clear();
            _pending.Clear();
        }
    }

    /// <summary>Drops cancelled sequences and moves queued ones into free slots.</summary>
    private void Admit()
    {
        lock (_pending)
        {
            for (var i = _active.Count - 1; i >= 0; i--)
            {
                if (_active[i].IsCancelled)
                {
                    Finish(_active[i], null);
                    _active.RemoveAt(i);
                }
            }

            while (_pending.Count > 0 && _active.Count < _options.MaxSequences)
            {
                var s = _pending.Dequeue();
                if (s.IsCancelled)
                {
                    Finish(s, null);
                    continue;
                }

                s.Kv = _kv.CreateSequence(s.ContextLimit);
                MapCachedPrefix(s);
                _active.Add(s);
            }
        }
    }

    /// <summary>
    /// Skips the prompt's leading full pages that the prefix cache holds. The last prompt token is always recomputed (its
    /// logits choose the first token), and a prompt being scored maps nothing: every position needs its logits.
    /// </summary>
    private void MapCachedPrefix(ActiveSequence s)
    {
        var prompt = s.Request.PromptTokens;
        Interlocked.Add(ref _promptTokensAdmitted, prompt.Length);
        if (!_kv.PrefixCaching || s.Request.PromptLogprobs)
        {
            return;
        }

        var cached = s.Kv!.MapPrefix(prompt, prompt.Length - 1);
        s.Fed = cached;
        s.CachedPromptTokens = cached;
        Interlocked.Add(ref _cachedPromptTokens, cached);
    }

    /// <summary>Decode tokens first (one per generating sequence), then prefill chunks in arrival order with the budget left.</summary>
    private void BuildStep()
    {
        _step.Clear();
        _stepSequences.Clear();
        _logitOwners.Clear();
        var budget = _options.MaxBatchTokens;
        foreach (var s in _active)
        {
            if (!s.Prefilling && budget > 0)
            {
                _step.Add(new StepToken(s.History[^1], s.Fed, s.Kv!, true));
                _stepSequences.Add(s);
                _logitOwners.Add((s, -1));
                budget--;
            }
        }

        foreach (var s in _active)
        {
            if (!s.Prefilling || budget == 0)
            {
                continue;
            }

            var prompt = s.Request.PromptTokens;
            var take = Math.Min(Math.Min(prompt.Length - s.Fed, _options.PrefillChunk), budget);
            var scoring = s.Request.PromptLogprobs;
            var freeRows = _logitRows - _logitOwners.Count;
            if (scoring)
            {
                // Every position's logits score the next prompt token: take only as many as there are free rows.
                take = Math.Min(take, freeRows);
            }
            else if (s.Fed + take == prompt.Length && freeRows == 0)
            {
                // The last prompt position needs a logits row; a scored prompt took them all: feed it next step.
                take--;
            }

            if (take == 0)
            {
                continue;
            }

            for (var i = 0; i < take; i++)
            {
                var pos = s.Fed + i;
                var last = pos == prompt.Length - 1;
                _step.Add(new StepToken(prompt[pos], pos, s.Kv!, last || scoring));
                _stepSequences.Add(s);
                if (last || scoring)
                {
                    _logitOwners.Add((s, last ? -1 : pos + 1));
                }
            }

            budget -= take;
            Interlocked.Add(ref _promptTokens, take);
        }
    }

    /// <summary>Samples the next token of every sequence whose logits the step produced, and emits it.</summary>
    private void Advance()
    {
        var vocab = _model.Config.VocabSize;
        for (var i = 0; i < _step.Count; i++)
        {
            var s = _stepSequences[i];
            s.Fed = _step[i].Position + 1;
            if (i + 1 == _step.Count || _stepSequences[i + 1] != s)
            {
                // After the sequence's last token of the step: pages it filled become shareable (prompt and generated
                // tokens alike, so the next turn of a conversation finds this one's reply cached).
                s.Kv!.Publish(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(s.History));
            }
        }

        for (var row = 0; row < _logitOwners.Count; row++)
        {
            var (s, scoreIndex) = _logitOwners[row];
            if (s.IsCancelled || s.Done)
            {
                continue;
            }

            var logits = _logits.AsSpan(row * vocab, vocab);
            try
            {
                if (!AllFinite(logits))
                {
                    throw new SequenceFaultException("the model produced non-finite logits (NaN or infinity) for this request; its weights may be corrupt");
                }

                if (scoreIndex >= 0)
                {
                    var token = s.Request.PromptTokens[scoreIndex];
                    var logprob = s.Sampler.Score(logits, token);
                    s.PromptLogprobs![scoreIndex] = new PromptTokenLogprob(token, logprob, s.Sampler.LastTopLogprobs.ToArray());
                }
                else if (s.Request.MaxTokens == 0)
                {
                    EmitPromptOnly(s);
                }
                else
                {
                    Emit(s, s.SampleNext(logits));
                }
            }
            catch (Exception e)
            {
                // This sequence alone fails; the others in the step go on.
                s.Done = true;
                Finish(s, e as SequenceFaultException ?? new SequenceFaultException($"sampling failed for this request: {e.Message}", e));
            }
        }

        lock (_pending)
        {
            for (var i = _active.Count - 1; i >= 0; i--)
            {
                if (_active[i].Done || _active[i].IsCancelled)
                {
                    Finish(_active[i], null);
                    _active.RemoveAt(i);
                }
            }
        }
    }

    /// <summary>NaN or infinity anywhere in a row (corrupt weights) makes its softmax meaningless.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool AllFinite(ReadOnlySpan<float> logits)
    {
        // x - x is 0 for every finite x and NaN for NaN and both infinities: one pass, vectorized, no branch per element.
        var sum = 0f;
        var vectors = System.Runtime.InteropServices.MemoryMarshal.Cast<float, System.Numerics.Vector<float>>(logits);
        var acc = System.Numerics.Vector<float>.Zero;
        foreach (var v in vectors)
        {
            acc += v - v;
        }

        sum += System.Numerics.Vector.Sum(acc);
        for (var i = vectors.Length * System.Numerics.Vector<float>.Count; i < logits.Length; i++)
        {
            sum += logits[i] - logits[i];
        }

        return sum == 0f;
    }

    private void Emit(ActiveSequence s, int id)
    {
        s.TimeToFirstToken ??= _time.GetElapsedTime(s.SubmittedAt).TotalSeconds;
        Interlocked.Increment(ref _generatedTokens);
        var tokenizer = _model.Tokenizer;
        var endOfGeneration = !s.Request.IgnoreEos && (tokenizer.EndOfGenerationIds.Contains(id) || s.Request.StopTokenIds.Contains(id));
        s.History.Add(id);
        FinishReason? finish = null;
        var text = "";
        if (endOfGeneration)
        {
            finish = FinishReason.Stop;
            text = s.Stops.Push(s.Decoder.Flush()).Emit + s.Stops.Flush();
        }
        else
        {
            var result = s.Stops.Push(s.Decoder.Push(id));
            text = result.Emit;
            if (result.Stopped)
            {
                finish = FinishReason.Stop;
            }
            else if (s.Generated >= (s.Request.MaxTokens ?? int.MaxValue) || s.Request.PromptTokens.Length + s.Generated >= s.ContextLimit)
            {
                finish = FinishReason.Length;
                text += s.Stops.Push(s.Decoder.Flush()).Emit + s.Stops.Flush();
            }
        }

        var sampling = s.Request.Sampling;
        Write(s, new GenerationUpdate
        {
            TokenId = id,
            Text = text,
            Logprob = sampling.Logprobs ? s.Sampler.LastLogprob : null,
            TopLogprobs = sampling.Logprobs && sampling.TopLogprobs > 0 ? s.Sampler.LastTopLogprobs.ToArray() : null,
            FinishReason = finish,
            PromptTokens = s.Request.PromptTokens.Length,
            CachedPromptTokens = s.CachedPromptTokens,
            CompletionTokens = s.Generated,
            TimeToFirstTokenSeconds = s.TimeToFirstToken ?? 0,
            PromptLogprobs = TakePromptLogprobs(s),
        });
    }

    /// <summary>max_tokens = 0: the prompt is fed (and scored); the sequence ends without sampling.</summary>
    private void EmitPromptOnly(ActiveSequence s)
    {
        s.TimeToFirstToken ??= _time.GetElapsedTime(s.SubmittedAt).TotalSeconds;
        Write(s, new GenerationUpdate
        {
            TokenId = -1,
            Text = "",
            FinishReason = FinishReason.Length,
            PromptTokens = s.Request.PromptTokens.Length,
            CachedPromptTokens = s.CachedPromptTokens,
            CompletionTokens = 0,
            TimeToFirstTokenSeconds = s.TimeToFirstToken.Value,
            PromptLogprobs = TakePromptLogprobs(s),
        });
    }

    private static PromptTokenLogprob[]? TakePromptLogprobs(ActiveSequence s)
    {
        var scores = s.PromptLogprobs;
        s.PromptLogprobs = null;
        return scores;
    }

    private static void Write(ActiveSequence s, GenerationUpdate update)
    {
        s.Output.Writer.TryWrite(update);
        if (update.FinishReason != null)
        {
            s.Done = true;
            s.Output.Writer.TryComplete();
        }
    }

    private void FailStep(Exception e)
    {
        lock (_pending)
        {
            foreach (var s in _stepSequences.Distinct().ToArray())
            {
                Finish(s, e);
                _active.Remove(s);
            }
        }
    }

    private static void Finish(ActiveSequence s, Exception? error)
    {
        if (error is SequenceFaultException)
        {
            s.Kv?.Scrub();
        }

        s.Output.Writer.TryComplete(error);
        s.Kv?.Dispose();
        s.Kv = null;
    }

    /// <summary>
    /// The engine's code paths run once before the constructor returns: requests go through the loop as any other does
    /// (queueing, admission, step building, the detokenizer, sampling, finishing), so that a first request runs compiled
    /// code instead of paying for the JIT (the kernels alone were not enough: the request path's own methods compiled
    /// during a one-shot's first prompt cost it about a fifth of its speed). The first prompt is a chunk of 13 tokens (a
    /// tile of eight, one of four and a single row in the batched kernels) sampled with the filtering samplers and
    /// logprobs, with two decode steps after it; the second is one token decoded greedily with the end-of-generation
    /// check. (Scoring the first prompt's positions as well, for the head's batched path, made the warm-up 0.1 s longer on
    /// 2B4T for a path whose kernels are compiled fully optimized on first use anyway.) Then the KV pages a first prompt
    /// chunk needs are allocated and written (<see cref="KvCache.Prefault"/>). Nothing is left behind: 13 tokens fill no
    /// page the prefix cache could publish, the sequences' pages are released, and the counters are set back to zero.
    /// </summary>
    private TimeSpan WarmUpPasses()
    {
        var started = _time.GetTimestamp();
        var prompt = Math.Min(13, Math.Min(_options.MaxBatchTokens, _contextLimit - 2));
        if (prompt < 1)
        {
            return TimeSpan.Zero;
        }

        var vocab = _model.Config.VocabSize;
        GenerationRequest[] requests =
        [
            new()
            {
                PromptTokens = [.. Enumerable.Range(0, prompt).Select(t => t % vocab)],
                MaxTokens = 3,
                IgnoreEos = true,
                Sampling = new SamplingOptions { Temperature = 0.7f, TopK = 40, TopP = 0.9f, MinP = 0.05f, Seed = 1, Logprobs = true, TopLogprobs = 2 },
            },
            // Greedy decoding with the end-of-generation check, the defaults most requests use: its arg-max over the
            // vocabulary compiled on a first request's first token cost it 14 ms on the 700m shape. One token is enough.
            new() { PromptTokens = [1 % vocab], MaxTokens = 1, Sampling = new SamplingOptions { Temperature = 0 } },
        ];
        foreach (var request in requests)
        {
            try
            {
                foreach (var _ in GenerateAsync(request).ToBlockingEnumerable())
                {
                    // Only the passes matter.
                }
            }
            catch (SequenceFaultException)
            {
                // A model whose logits are not finite faults each request later with this same error.
            }
        }

        // The sequence's pages are released just after its stream completes, on the loop thread: wait for that, then clear
        // what the request counted.
        var idle = new SpinWait();
        while (true)
        {
            lock (_pending)
            {
                if (_active.Count == 0 && _pending.Count == 0)
                {
                    break;
                }
            }

            idle.SpinOnce();
        }

        Interlocked.Exchange(ref _generatedTokens, 0);
        Interlocked.Exchange(ref _promptTokens, 0);
        Interlocked.Exchange(ref _promptTokensAdmitted, 0);
        Interlocked.Exchange(ref _cachedPromptTokens, 0);
        Interlocked.Exchange(ref _steps, 0);
        Interlocked.Exchange(ref _weightBytes, 0);

        // The pages a first prompt chunk needs (its own and the one the warm-up sequence held, which came back when it was
        // disposed) are written now: a page is layers x 2 x 64 x KvDim half values, MBs whose page faults took as long as
        // the first prompt's matmuls.
        _kv.Prefault((Math.Min(_options.PrefillChunk, _contextLimit) + KvCache.PageTokens - 1) / KvCache.PageTokens + 1);
        return _time.GetElapsedTime(started);
    }

    public void Dispose()
    {
        if (_stopping)
        {
            return;
        }

        _stopping = true;
        _signal.Release();
        _loop.Join();
        _pool.Dispose();
        _signal.Dispose();
        _kv.Dispose();
    }
}
