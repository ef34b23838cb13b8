using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using WrinkleFree.Inference.Batching;
using WrinkleFree.Inference.Models;
using WrinkleFree.Replica.Api;
using WrinkleFree.Replica.Chat;
using WrinkleFree.Replica.Metrics;

namespace WrinkleFree.Replica.Backends.BitNet;

/// <summary>
/// The in-process backend: a GGUF model behind the continuous-batching <see cref="InferenceEngine"/>. Loading runs in the
/// background so /health can answer "loading" meanwhile; engine errors become <see cref="BackendException"/>s.
/// </summary>
internal sealed class BitNetBackend(ReplicaOptions options, ILogger logger, TimeProvider time) : IInferenceBackend, IPrefixCacheReporter
{
    private static readonly TimeSpan QueueFullRetryAfter = TimeSpan.FromSeconds(1);

    private readonly ToolGrammarCache _toolGrammars = new();
    private volatile Loaded? _loaded;
    private volatile string? _loadError;
    private Task? _loading;

    public string Name => "bitnet";

    public string ModelId { get; } = options.EffectiveModelId;

    public int? ContextLength => _loaded?.Engine.ContextLimit;

    public BackendState State => _loaded is not null ? BackendState.Ready : _loadError is not null ? BackendState.Unavailable : BackendState.Loading;

    /// <summary>The engine once loaded (benchmarks call it directly for the server-overhead comparison).</summary>
    public InferenceEngine? Engine => _loaded?.Engine;

    /// <summary>Why loading failed, or null.</summary>
    public string? LoadError => _loadError;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _loading = Task.Run(Load, cancellationToken);
        return Task.CompletedTask;
    }

    private void Load()
    {
        var path = options.ModelPath!;
        try
        {
            Log.Loading(logger, path);
            var model = Model.Load(path);
            if (options.Mlock)
            {
                model.LockInMemory();
            }

            var tokenizer = model.Tokenizer;
            var chat = ChatPromptBuilder.ForModel(
                tokenizer.ChatTemplate,
                tokenizer.BosId >= 0 ? tokenizer.TokenText(tokenizer.BosId) : "",
                tokenizer.EosId >= 0 ? tokenizer.TokenText(tokenizer.EosId) : "");
            var engine = new InferenceEngine(model, new EngineOptions
            {
                Threads = options.Threads,
                MaxSequences = options.MaxSequences,
                MaxBatchTokens = Math.Max(256, options.MaxSequences),
                ContextSize = options.ContextSize,
                MaxQueue = options.MaxQueue,
                PrefixCache = options.PrefixCache,
                KvPrecision = options.KvPrecision,
                WarmUp = options.WarmUp,
            }, time);
            _loaded = new Loaded(model, engine, chat);
            Log.Loaded(logger, model.Name, engine.ContextLimit, chat.UsesModelTemplate ? "model" : "chatml", (long)engine.WarmUpTime.TotalMilliseconds);
        }
        catch (Exception e)
        {
            _loadError = e.Message;
            Log.LoadFailed(logger, path, e);
        }
    }

    public PrefixCacheStats? GetPrefixCacheStats() => _loaded?.Engine is { } engine
        ? new PrefixCacheStats(engine.PromptTokensAdmitted, engine.CachedPromptTokens, engine.PromptTokensProcessed,
            engine.KvCache.CachedPages, engine.KvCache.PagesCachedTotal, engine.KvCache.PagesEvictedTotal)
        : null;

    public BackendLoad GetLoad()
    {
        var engine = _loaded?.Engine;
        return engine is null ? default : new BackendLoad(engine.ActiveSequences, engine.QueuedSequences, engine.WeightBytesStreamed);
    }

    public Task<int[]> TokenizeAsync(string text, bool addSpecial, CancellationToken cancellationToken) =>
        Task.FromResult(Ready().Model.Tokenizer.Encode(text, addSpecial, parseSpecial: true));

    public Task<string> DetokenizeAsync(int[] tokens, CancellationToken cancellationToken)
    {
        var model = Ready().Model;
        CheckIds(tokens, model.Config.VocabSize, "tokens");
        return Task.FromResult(model.Tokenizer.Decode(tokens));
    }

    public IAsyncEnumerable<GenerationEvent> GenerateAsync(GenerationInput input, CancellationToken cancellationToken) =>
        input.Tools is { ParsesCalls: true } tools
            ? ToolCallEvents.ReadAsync(GenerateTextAsync(input, cancellationToken), () => new ToolCallStream(Ready().Chat.ToolSyntax, tools), cancellationToken)
            : GenerateTextAsync(input, cancellationToken);

    private async IAsyncEnumerable<GenerationEvent> GenerateTextAsync(GenerationInput input, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var loaded = Ready();
        if (input.Tools is { Choice: ToolChoiceMode.Auto, ParsesCalls: true } && input.Constraint is { } requested)
        {
            // One grammar constrains the whole output: the format's would leave the model no way to write a call, and
            // taking the tools would drop the format. Neither is what was asked, so say so instead.
            var param = requested.GrammarText is not null ? "grammar" : "response_format";
            throw new BackendException(400, "invalid_request_error",
                $"{param} with tools and tool_choice auto is not supported by this server: the output is constrained either to the format or to a tool call, not to a choice of both. Send tool_choice none (answer in the format), or required / a named function (call a tool)",
                param, "unsupported_parameter");
        }

        // Compiled here, before anything is sent: a schema this engine cannot enforce is the request's 400.
        var format = input.Constraint?.Grammar;
        foreach (var tool in input.Tools?.Tools ?? [])
        {
            // Strict tools' schemas likewise: refused up front when this engine cannot enforce them.
            GC.KeepAlive(tool.StrictArguments);
        }

        // tool_choice required or a named function: the output is forced to be a call block (Chat/ToolCallGrammar).
        var toolGrammar = input.Tools is { Choice: ToolChoiceMode.Required or ToolChoiceMode.Function } forced
            ? _toolGrammars.For(loaded.Chat.ToolSyntax, forced)
            : null;

        var tokenizer = loaded.Model.Tokenizer;
        var (prompt, promptParam) = Prompt(loaded, input);
        var limit = loaded.Engine.ContextLimit;
        if (prompt.Length >= limit || prompt.Length + (input.MaxTokens ?? 0) > limit)
        {
            throw new BackendException(400, "invalid_request_error",
                $"This model's maximum context length is {limit} tokens. However, you requested {prompt.Length + (input.MaxTokens ?? 1)} tokens " +
                $"({prompt.Length} in the {promptParam}, {input.MaxTokens ?? 1} in the completion). Please reduce the length of the {promptParam} or max_tokens.",
                promptParam, "context_length_exceeded");
        }

        // echo + logprobs scores the prompt (lm-evaluation-harness' loglikelihood requests): the engine feeds it with logits
        // at every position, and the echoed text goes out token by token with each token's logprob (the first has none).
        var scorePrompt = input.Echo && input.Sampling.Logprobs;
        if (input.Echo && !scorePrompt)
        {
            yield return new GenerationEvent { Text = input.PromptText ?? tokenizer.Decode(prompt), PromptTokens = prompt.Length, IsEcho = true };
        }

        if (input.MaxTokens == 0 && !scorePrompt)
        {
            // Nothing to generate or score: end without running the model.
            yield return new GenerationEvent { Text = "", FinishReason = "length", PromptTokens = prompt.Length };
            yield break;
        }

        IAsyncEnumerable<GenerationUpdate> updates;
        try
        {
            updates = loaded.Engine.GenerateAsync(new GenerationRequest
            {
                PromptTokens = prompt,
                Sampling = input.Sampling,
                MaxTokens = input.MaxTokens,
                Stop = input.Stop,
                PromptLogprobs = scorePrompt,
                // A forced tool call wins over response_format: that format shapes a text answer, and there is none.
                Constraint = toolGrammar is not null ? toolGrammar.CreateConstraint
                    : format is not null ? format.CreateConstraint : null,
            }, cancellationToken);
        }
        catch (EngineOverloadedException e)
        {
            throw new BackendException(429, "rate_limit_error", $"the replica's queue is full ({e.Queued} requests waiting); retry later", null, "queue_full", QueueFullRetryAfter);
        }
        catch (ContextLengthExceededException e)
        {
            throw new BackendException(400, "invalid_request_error", $"This model's maximum context length is {e.Limit} tokens: {e.Message}", promptParam, "context_length_exceeded");
        }
        catch (ArgumentException e)
        {
            throw new BackendException(400, "invalid_request_error", e.Message, e.ParamName is { } p ? ParamNames.FromEngine(p) : null);
        }
        catch (ObjectDisposedException)
        {
            throw Unavailable("the replica is shutting down");
        }

        var logprobs = input.Sampling.Logprobs;
        var enumerator = updates.GetAsyncEnumerator(cancellationToken);
        await using var _ = enumerator.ConfigureAwait(false);
        while (await NextAsync(enumerator).ConfigureAwait(false))
        {
            var u = enumerator.Current;
            if (u.PromptLogprobs is { } scores)
            {
                foreach (var e in EchoEvents(tokenizer, scores, skipSpecial: input.PromptText is not null))
                {
                    yield return e;
                }
            }

            yield return new GenerationEvent
            {
                Text = u.Text,
                TokenId = u.TokenId,
                TokenText = logprobs && u.TokenId >= 0 ? tokenizer.Decode([u.TokenId]) : null,
                Logprob = u.Logprob,
                TopLogprobs = logprobs && u.TopLogprobs is { } top ? MapTop(tokenizer, top) : null,
                FinishReason = u.FinishReason switch
                {
                    FinishReason.Stop => "stop",
                    FinishReason.Length => "length",
                    _ => null,
                },
                PromptTokens = u.PromptTokens,
                CompletionTokens = u.CompletionTokens,
                CachedPromptTokens = u.CachedPromptTokens,
            };
        }
    }

    /// <summary>An engine fault of this one sequence (corrupt weights, a kernel error) is a 500 naming the cause.</summary>
    private async ValueTask<bool> NextAsync(IAsyncEnumerator<GenerationUpdate> updates)
    {
        try
        {
            return await updates.MoveNextAsync().ConfigureAwait(false);
        }
        catch (SequenceFaultException e)
        {
            Log.SequenceFault(logger, e.Message);
            throw new BackendException(500, "server_error", e.Message, null, "engine_fault");
        }
        catch (ObjectDisposedException)
        {
            throw Unavailable("the replica is shutting down");
        }
    }

    /// <summary>
    /// The scored prompt as echo events: one per token, with the text the incremental decoder releases for it. For a text
    /// prompt the special tokens the tokenizer added (BOS) are entries without text, so the echo spells the prompt as sent,
    /// as a plain echo does; a token-id prompt echoes what its ids decode to.
    /// </summary>
    private static IEnumerable<GenerationEvent> EchoEvents(Inference.Tokenization.Tokenizer tokenizer, Inference.Batching.PromptTokenLogprob[] scores, bool skipSpecial)
    {
        var decoder = tokenizer.CreateDecoder(skipSpecial);
        for (var i = 0; i < scores.Length; i++)
        {
            var p = scores[i];
            var text = decoder.Push(p.TokenId);
            if (i == scores.Length - 1)
            {
                text += decoder.Flush();
            }

            yield return new GenerationEvent
            {
                Text = text,
                TokenId = p.TokenId,
                TokenText = tokenizer.Decode([p.TokenId]),
                Logprob = p.Logprob,
                TopLogprobs = p.Logprob is null ? null : MapTop(tokenizer, p.TopLogprobs),
                PromptTokens = scores.Length,
                IsEcho = true,
            };
        }
    }

    private static TopLogprob[] MapTop(Inference.Tokenization.Tokenizer tokenizer, Inference.Sampling.TokenLogprob[] top)
    {
        var result = new TopLogprob[top.Length];
        for (var i = 0; i < top.Length; i++)
        {
            result[i] = new TopLogprob(tokenizer.Decode([top[i].TokenId]), top[i].Logprob, top[i].TokenId);
        }

        return result;
    }

    private static (int[] Tokens, string Param) Prompt(Loaded loaded, GenerationInput input)
    {
        var tokenizer = loaded.Model.Tokenizer;
        if (input.Sampling.LogitBias is { } bias)
        {
            CheckIds([.. bias.Keys], loaded.Model.Config.VocabSize, "logit_bias");
        }

        if (input.Suffix is { } suffix)
        {
            return (FillInTheMiddle(loaded, input, suffix), "prompt");
        }

        if (input.PromptTokens is { } ids)
        {
            CheckIds(ids, loaded.Model.Config.VocabSize, "prompt");
            return (ids, "prompt");
        }

        if (input.Messages is { } messages)
        {
            var text = loaded.Chat.Render(messages, input.Tools);
            // Templates usually spell out BOS themselves; add it only when the model wants one and the template did not.
            var tokens = tokenizer.Encode(text, addSpecial: false, parseSpecial: true);
            if (tokenizer.AddBos && tokenizer.BosId >= 0 && (tokens.Length == 0 || tokens[0] != tokenizer.BosId))
            {
                tokens = [tokenizer.BosId, .. tokens];
            }

            return (tokens, "messages");
        }

        var prompt = tokenizer.Encode(input.PromptText ?? "", addSpecial: true, parseSpecial: true);
        if (prompt.Length == 0)
        {
            throw new BackendException(400, "invalid_request_error", "the prompt is empty: give at least one token", "prompt");
        }

        return (prompt, "prompt");
    }

    // Prefix-suffix-middle: the model reads the text before and after the gap, then writes what goes between.
    private static int[] FillInTheMiddle(Loaded loaded, GenerationInput input, string suffix)
    {
        var tokenizer = loaded.Model.Tokenizer;
        if (tokenizer.FillInTheMiddle is not { } fim)
        {
            throw new BackendException(400, "invalid_request_error",
                $"suffix needs a model with fill-in-the-middle tokens (a code model such as Qwen2.5-Coder or CodeLlama); {loaded.Model.Name} has none. Remove suffix, or serve a FIM model",
                "suffix", "unsupported_parameter");
        }

        int[] before;
        if (input.PromptTokens is { } ids)
        {
            CheckIds(ids, loaded.Model.Config.VocabSize, "prompt");
            before = ids;
        }
        else
        {
            before = tokenizer.Encode(input.PromptText ?? "", addSpecial: false, parseSpecial: false);
        }

        var after = tokenizer.Encode(suffix, addSpecial: false, parseSpecial: false);
        var bos = input.PromptTokens is null && tokenizer.AddBos && tokenizer.BosId >= 0 ? 1 : 0;
        var prompt = new int[bos + before.Length + after.Length + 3];
        if (bos == 1)
        {
            prompt[0] = tokenizer.BosId;
        }

        prompt[bos] = fim.Prefix;
        before.CopyTo(prompt, bos + 1);
        prompt[bos + 1 + before.Length] = fim.Suffix;
        after.CopyTo(prompt, bos + 2 + before.Length);
        prompt[^1] = fim.Middle;
        return prompt;
    }

    private static void CheckIds(int[] ids, int vocab, string param)
    {
        foreach (var id in ids)
        {
            if ((uint)id >= (uint)vocab)
            {
                throw new BackendException(400, "invalid_request_error", $"token id {id} is outside the vocabulary (0..{vocab - 1})", param);
            }
        }
    }

    private Loaded Ready() => _loaded ?? throw (_loadError is { } error
        ? Unavailable($"the model failed to load: {error}")
        : new BackendException(503, "service_unavailable", "the model is still loading; retry shortly", null, "model_loading", TimeSpan.FromSeconds(1)));

    private static BackendException Unavailable(string message) =>
        new(503, "service_unavailable", message, null, "backend_unavailable", TimeSpan.FromSeconds(5));

    public async ValueTask DisposeAsync()
    {
        if (_loading is not null)
        {
            await _loading.ConfigureAwait(false);
        }

        if (_loaded is { } loaded)
        {
            loaded.Engine.Dispose();
            loaded.Model.Dispose();
        }
    }

    private sealed record Loaded(Model Model, InferenceEngine Engine, ChatPromptBuilder Chat);
}
