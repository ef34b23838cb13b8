using System.Text.Json;

namespace WrinkleFree.Replica.Chat;

/// <summary>
/// One declared function tool. <see cref="Definition"/> is the client's whole <c>{"type":"function","function":{...}}</c>
/// object, passed to chat templates unchanged (HF's convention) and forwarded to upstreams as sent.
/// </summary>
public sealed record ChatTool(string Name, string? Description, JsonElement? Parameters, JsonElement Definition);
