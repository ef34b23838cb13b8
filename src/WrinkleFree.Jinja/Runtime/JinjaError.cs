namespace WrinkleFree.Jinja.Runtime;

/// <summary>An error raised while evaluating; the renderer adds the position of the node being evaluated.</summary>
internal sealed class JinjaError(string message) : Exception(message);
