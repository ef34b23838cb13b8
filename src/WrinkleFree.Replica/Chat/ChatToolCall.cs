using System.Text.Json;

namespace WrinkleFree.Replica.Chat;

/// <summary>
/// One function call of an assistant message, as OpenAI writes it: an id, the function's name and its arguments as a JSON
/// text. <see cref="ArgumentsObject"/> is the same arguments parsed, which is what HF chat templates expect to render.
/// </summary>
public sealed record ChatToolCall(string Id, string Name, string Arguments)
{
    /// <summary>The parsed arguments (a JSON object), or null when <see cref="Arguments"/> is not a JSON object.</summary>
    public JsonElement? ArgumentsObject { get; init; }
}
