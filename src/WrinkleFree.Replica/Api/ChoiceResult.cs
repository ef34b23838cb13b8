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

    public void Add(GenerationEvent e, bool logprobs)
    {
        if (logprobs && e.HasLogprobEntry)
        {
            Tokens.Add((e, Text.Length));
        }

        Text.Append(e.Text);
        foreach (var call in e.ToolCalls ?? [])
        {
            if (call.Index == ToolCalls.Count)
            {
                ToolCalls.Add((call.Id ?? "", call.Name ?? "", new StringBuilder()));
            }

            ToolCalls[call.Index].Arguments.Append(call.Arguments);
        }

        PromptTokens = Math.Max(PromptTokens, e.PromptTokens);
        CompletionTokens = Math.Max(CompletionTokens, e.CompletionTokens);
        FinishReason ??= e.FinishReason;
    }
}
