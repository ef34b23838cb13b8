namespace WrinkleFree.Jinja.Syntax;

// The template AST: a closed hierarchy of small records, kept together in one file because each is a line long.

/// <summary>A statement of the template body.</summary>
internal abstract record JinjaStmt(JinjaPos Pos);

internal sealed record TextStmt(string Text, JinjaPos Pos) : JinjaStmt(Pos);

internal sealed record OutputStmt(JinjaExpr Value, JinjaPos Pos) : JinjaStmt(Pos);

internal sealed record IfStmt(IReadOnlyList<(JinjaExpr Condition, IReadOnlyList<JinjaStmt> Body)> Branches, IReadOnlyList<JinjaStmt>? Else, JinjaPos Pos)
    : JinjaStmt(Pos);

internal sealed record ForStmt(
    IReadOnlyList<string> Targets, JinjaExpr Iterable, JinjaExpr? Filter, IReadOnlyList<JinjaStmt> Body, IReadOnlyList<JinjaStmt>? Else, JinjaPos Pos)
    : JinjaStmt(Pos);

/// <summary><c>set a = v</c>, <c>set a, b = v</c> or <c>set ns.attr = v</c> (then <see cref="Attribute"/> is set).</summary>
internal sealed record SetStmt(IReadOnlyList<string> Targets, string? Attribute, JinjaExpr Value, JinjaPos Pos) : JinjaStmt(Pos);

internal sealed record SetBlockStmt(string Target, IReadOnlyList<FilterExpr> Filters, IReadOnlyList<JinjaStmt> Body, JinjaPos Pos) : JinjaStmt(Pos);

internal sealed record MacroStmt(string Name, IReadOnlyList<(string Name, JinjaExpr? Default)> Parameters, IReadOnlyList<JinjaStmt> Body, JinjaPos Pos)
    : JinjaStmt(Pos);

internal sealed record WithStmt(IReadOnlyList<(string Name, JinjaExpr Value)> Assignments, IReadOnlyList<JinjaStmt> Body, JinjaPos Pos) : JinjaStmt(Pos);

internal sealed record FilterBlockStmt(IReadOnlyList<FilterExpr> Filters, IReadOnlyList<JinjaStmt> Body, JinjaPos Pos) : JinjaStmt(Pos);

internal sealed record BreakStmt(JinjaPos Pos) : JinjaStmt(Pos);

internal sealed record ContinueStmt(JinjaPos Pos) : JinjaStmt(Pos);

/// <summary>An expression.</summary>
internal abstract record JinjaExpr(JinjaPos Pos);

internal sealed record LiteralExpr(object? Value, JinjaPos Pos) : JinjaExpr(Pos);

internal sealed record NameExpr(string Name, JinjaPos Pos) : JinjaExpr(Pos);

internal sealed record ListExpr(IReadOnlyList<JinjaExpr> Items, JinjaPos Pos) : JinjaExpr(Pos);

internal sealed record DictExpr(IReadOnlyList<(JinjaExpr Key, JinjaExpr Value)> Items, JinjaPos Pos) : JinjaExpr(Pos);

internal sealed record MemberExpr(JinjaExpr Target, string Name, JinjaPos Pos) : JinjaExpr(Pos);

internal sealed record IndexExpr(JinjaExpr Target, JinjaExpr Index, JinjaPos Pos) : JinjaExpr(Pos);

internal sealed record SliceExpr(JinjaExpr Target, JinjaExpr? Start, JinjaExpr? Stop, JinjaExpr? Step, JinjaPos Pos) : JinjaExpr(Pos);

internal sealed record CallExpr(JinjaExpr Callee, IReadOnlyList<JinjaExpr> Args, IReadOnlyList<(string Name, JinjaExpr Value)> Kwargs, JinjaPos Pos)
    : JinjaExpr(Pos);

/// <summary><c>input | name(args)</c>; <see cref="Input"/> is null inside a filter block or set block.</summary>
internal sealed record FilterExpr(JinjaExpr? Input, string Name, IReadOnlyList<JinjaExpr> Args, IReadOnlyList<(string Name, JinjaExpr Value)> Kwargs, JinjaPos Pos)
    : JinjaExpr(Pos);

internal sealed record TestExpr(JinjaExpr Input, string Name, IReadOnlyList<JinjaExpr> Args, bool Negated, JinjaPos Pos) : JinjaExpr(Pos);

internal sealed record UnaryExpr(string Op, JinjaExpr Operand, JinjaPos Pos) : JinjaExpr(Pos);

internal sealed record BinaryExpr(string Op, JinjaExpr Left, JinjaExpr Right, JinjaPos Pos) : JinjaExpr(Pos);

/// <summary>A comparison chain <c>a &lt; b &lt;= c</c>; operators include <c>in</c> and <c>not in</c>.</summary>
internal sealed record CompareExpr(JinjaExpr First, IReadOnlyList<(string Op, JinjaExpr Operand)> Rest, JinjaPos Pos) : JinjaExpr(Pos);

internal sealed record ConditionalExpr(JinjaExpr Condition, JinjaExpr Then, JinjaExpr? Else, JinjaPos Pos) : JinjaExpr(Pos);
