using System.Text.Json;

namespace WrinkleFree.Replica.Chat;

/// <summary>A chat request's tools, <c>tool_choice</c> and <c>parallel_tool_calls</c>, validated.</summary>
public sealed record ChatToolOptions
{
    public required IReadOnlyList<ChatTool> Tools { get; init; }

    public ToolChoiceMode Choice { get; init; } = ToolChoiceMode.Auto;

    /// <summary>The forced function when <see cref="Choice"/> is <see cref="ToolChoiceMode.Function"/>.</summary>
    public string? FunctionName { get; init; }

    /// <summary>null: not given (OpenAI's default, true).</summary>
    public bool? ParallelToolCalls { get; init; }

    /// <summary>The client's tool_choice as sent, forwarded to upstreams unchanged; null when not given.</summary>
    public JsonElement? RawChoice { get; init; }

    /// <summary>Whether the output is read as tool calls at all (tool_choice none: never).</summary>
    public bool ParsesCalls => Choice != ToolChoiceMode.None && Tools.Count > 0;

    /// <summary>Whether more than one call per answer is allowed.</summary>
    public bool AllowsParallel => ParallelToolCalls ?? true;

    /// <summary>The tools the model may call under this choice (one for a named function).</summary>
    public IEnumerable<ChatTool> Callable => Choice == ToolChoiceMode.Function ? Tools.Where(t => t.Name == FunctionName) : Tools;
}
