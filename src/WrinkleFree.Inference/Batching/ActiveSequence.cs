using System.Threading.Channels;
using WrinkleFree.Inference.Models;
using WrinkleFree.Inference.Sampling;
using WrinkleFree.Inference.Sampling.Constraints;
using WrinkleFree.Inference.Tokenization;

namespace WrinkleFree.Inference.Batching;

/// <summary>Engine-side state of one sequence: its KV pages, what it has fed and generated, and its output channel.</summary>
internal sealed class ActiveSequence
{
    private int _cancelled;
    private bool _done;

    public ActiveSequence(GenerationRequest request, Tokenizer tokenizer, int vocabSize, int contextLimit, long submittedAt)
    {
        Request = request;
        ContextLimit = contextLimit;
        SubmittedAt = submittedAt;
        Sampler = new Sampler(request.Sampling, vocabSize);
        Decoder = tokenizer.CreateDecoder();
        Stops = new StopMatcher(request.Stop);
        Constraint = request.Constraint?.Invoke(tokenizer);
        History = new List<int>(request.PromptTokens.Length + Math.Min(request.MaxTokens ?? 256, contextLimit));
        History.AddRange(request.PromptTokens);
        if (request.PromptLogprobs)
        {
            PromptLogprobs = new PromptTokenLogprob[request.PromptTokens.Length];
            PromptLogprobs[0] = new PromptTokenLogprob(request.PromptTokens[0], null, []);
        }
    }

    public GenerationRequest Request { get; }

    public Channel<GenerationUpdate> Output { get; } = Channel.CreateUnbounded<GenerationUpdate>(new() { SingleReader = true, SingleWriter = true });

    public int ContextLimit { get; }

    /// <summary>Prompt token scores being filled during prefill (requests with prompt logprobs), handed out with the first update.</summary>
    public PromptTokenLogprob[]? PromptLogprobs { get; set; }

    public long SubmittedAt { get; }

    public double? TimeToFirstToken { get; set; }

    public KvSequence? Kv { get; set; }

    public Sampler Sampler { get; }

    public IncrementalDecoder Decoder { get; }

    public StopMatcher Stops { get; }

    /// <summary>The request's decoding constraint, or null (then sampling takes the unconstrained path unchanged).</summary>
    public ITokenConstraint? Constraint { get; }

    /// <summary>Prompt plus generated tokens (penalty history).</summary>
    public List<int> History { get; }

    /// <summary>Tokens whose K/V are in the cache.</summary>
    public int Fed { get; set; }

    public int Generated => History.Count - Request.PromptTokens.Length;

    public bool Prefilling => Fed < Request.PromptTokens.Length;

    /// <summary>Set by the engine loop when the last update was written.</summary>
    public bool Done
    {
        get => Volatile.Read(ref _done);
        set => Volatile.Write(ref _done, value);
    }

    public bool IsCancelled => Volatile.Read(ref _cancelled) != 0;

    public void Cancel() => Interlocked.Exchange(ref _cancelled, 1);

    /// <summary>Draws the next token from <paramref name="logits"/> (modified in place), within the constraint if there is one.</summary>
    public int SampleNext(Span<float> logits)
    {
        var history = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(History);
        if (Constraint is not { } constraint)
        {
            return Sampler.Sample(logits, history);
        }

        constraint.Apply(logits);
        var id = Sampler.Sample(logits, history);
        constraint.Accept(id);
        return id;
    }
}
