namespace WrinkleFree.Replica.Chat;

/// <summary>How a model spells a tool call in its output, as its chat template teaches it.</summary>
public enum ToolCallSyntax
{
    /// <summary>Qwen2.5/Qwen3, Hermes and ChatML models: <c>&lt;tool_call&gt;\n{"name": ..., "arguments": {...}}\n&lt;/tool_call&gt;</c>.</summary>
    Hermes,

    /// <summary>Llama 3.1/3.2: the whole answer is <c>{"name": ..., "parameters": {...}}</c>, maybe after <c>&lt;|python_tag|&gt;</c>.</summary>
    Llama3Json,
}
