namespace WrinkleFree.Replica.Chat;

/// <summary>
/// One piece of a streamed tool call, OpenAI's <c>delta.tool_calls[]</c> entry: the first piece of call
/// <see cref="Index"/> carries its id and function name, later pieces append to its arguments.
/// </summary>
public sealed record ToolCallDelta(int Index, string? Id, string? Name, string? Arguments);
