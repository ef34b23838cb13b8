namespace WrinkleFree.Replica.Chat;

/// <summary>
/// One chat message: role (system, user, assistant, tool...) and its text content (text parts joined), plus the tool-call
/// fields OpenAI clients round-trip: an assistant's <see cref="ToolCalls"/> and a tool result's <see cref="ToolCallId"/>.
/// </summary>
public sealed record ChatMessage(string Role, string Content)
{
    /// <summary>The calls an assistant message made (null when it made none).</summary>
    public IReadOnlyList<ChatToolCall>? ToolCalls { get; init; }

    /// <summary>A tool message: the id of the call it answers.</summary>
    public string? ToolCallId { get; init; }

    /// <summary>The optional participant or function name the client gave.</summary>
    public string? Name { get; init; }

    /// <summary>Whether the client sent content null (an assistant message that only calls tools).</summary>
    public bool ContentIsNull { get; init; }
}
