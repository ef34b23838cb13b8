namespace WrinkleFree.Replica.Chat;

/// <summary>OpenAI's <c>tool_choice</c>: whether the model may, must, or must not call a tool.</summary>
public enum ToolChoiceMode
{
    /// <summary>The model decides (the default when tools are given).</summary>
    Auto,

    /// <summary>The model answers in text; its output is never read as a call.</summary>
    None,

    /// <summary>The model must call one or more of the tools.</summary>
    Required,

    /// <summary>The model must call the one function <see cref="ChatToolOptions.FunctionName"/> names.</summary>
    Function,
}
