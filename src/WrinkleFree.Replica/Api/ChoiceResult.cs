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

    /// <summary>Tool calls by index, assembled from their deltas: id, function name, arguments text.</summary>
    public List<(string Id, string Name, StringBuilder Arguments)> ToolCalls { get; } = [];

    public int PromptTokens { get; set; }

    public int CompletionTokens { get; set; }

    public int CachedPromptTokens { get; set; }

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
        foreach (var call in e.ToolCalls ?? [])
        {
            // An upstream's indexes may skip or repeat; a call's id and name come once, its arguments in pieces.
            while (ToolCalls.Count <= call.Index)
            {
                ToolCalls.Add(("", "", new StringBuilder()));
            }

            var (id, name, arguments) = ToolCalls[call.Index];
            ToolCalls[call.Index] = (call.Id ?? id, name + call.Name, arguments.Append(call.Arguments));
        }

        PromptTokens = Math.Max(PromptTokens, e.PromptTokens);
        CompletionTokens = Math.Max(CompletionTokens, e.CompletionTokens);
        CachedPromptTokens = Math.Max(CachedPromptTokens, e.CachedPromptTokens);
        FinishReason ??= e.FinishReason;
    }
}
