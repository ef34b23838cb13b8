using System.Text;
using WrinkleFree.Replica.Backends;

namespace WrinkleFree.Replica.Api;

/// <summary>One choice of a non-streamed response, accumulated event by event.</summary>
internal sealed class ChoiceResult
{
    public StringBuilder Text { get; } = new();

    /// <summary>Token entries for logprobs, with the text offset each token starts at (completions' text_offset).</summary>
    public List<(GenerationEvent Event, int Offset)> Tokens { get; } = [];

    public string? FinishReason { get; set; }

    public int PromptTokens { get; set; }

    public int CompletionTokens { get; set; }

    /// <summary>The sum of the generated tokens' logprobs (best_of ranks candidates by it); 0 when none were computed.</summary>
    public double CumulativeLogprob { get; private set; }

    public void Add(GenerationEvent e, bool logprobs)
    {
        if (logprobs && e.HasLogprobEntry)
        {
            Tokens.Add((e, Text.Length));
        }

        if (!e.IsEcho && e.Logprob is { } lp && float.IsFinite(lp))
        {
            CumulativeLogprob += lp;
        }

        Text.Append(e.Text);
        PromptTokens = Math.Max(PromptTokens, e.PromptTokens);
        CompletionTokens = Math.Max(CompletionTokens, e.CompletionTokens);
        FinishReason ??= e.FinishReason;
    }
}
