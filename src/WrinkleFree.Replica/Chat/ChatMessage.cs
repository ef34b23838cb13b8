namespace WrinkleFree.Replica.Chat;

/// <summary>One chat message: role (system, user, assistant, tool...) and its text content (text parts joined).</summary>
public sealed record ChatMessage(string Role, string Content);
