namespace WrinkleFree.Jinja.Syntax;

internal enum JinjaTokenKind
{
    Text,
    VarBegin,
    VarEnd,
    BlockBegin,
    BlockEnd,
    Name,
    String,
    Integer,
    Float,
    Operator,
    Eof,
}

/// <summary>One lexical token; <see cref="Value"/> holds the text, the decoded string literal or the operator.</summary>
internal readonly record struct JinjaToken(JinjaTokenKind Kind, string Value, int Line, int Column)
{
    public bool IsOperator(string op) => Kind == JinjaTokenKind.Operator && Value == op;

    public bool IsName(string name) => Kind == JinjaTokenKind.Name && Value == name;
}

/// <summary>A 1-based position in the template source, carried by every AST node for error messages.</summary>
internal readonly record struct JinjaPos(int Line, int Column);
