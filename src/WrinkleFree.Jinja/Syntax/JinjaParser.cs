using System.Globalization;
using System.Runtime.CompilerServices;
using WrinkleFree.Jinja.Runtime;

namespace WrinkleFree.Jinja.Syntax;

/// <summary>Recursive-descent parser from tokens to the AST, with Jinja's operator precedence.</summary>
internal sealed class JinjaParser
{
    // Nesting beyond this is not a real template; the limit keeps garbage input from exhausting the stack.
    private const int MaxDepth = 100;

    private static readonly HashSet<string> NonTestArgNames = ["and", "or", "else", "if", "in", "is", "not"];

    private readonly List<JinjaToken> _tokens;
    private int _index;
    private int _depth;
    private int _loopDepth;

    private JinjaParser(List<JinjaToken> tokens) => _tokens = tokens;

    public static IReadOnlyList<JinjaStmt> Parse(string source)
    {
        var parser = new JinjaParser(JinjaLexer.Tokenize(source));
        var body = parser.ParseBody([]);
        if (parser.Current.Kind != JinjaTokenKind.Eof)
        {
            throw parser.Error($"unexpected '{parser.Peek(1).Value}'", parser.Current);
        }

        return body;
    }

    private JinjaToken Current => _tokens[_index];

    private JinjaToken Peek(int ahead) => _tokens[Math.Min(_index + ahead, _tokens.Count - 1)];

    private static JinjaPos PosOf(JinjaToken token) => new(token.Line, token.Column);

    private JinjaToken Next()
    {
        var token = _tokens[_index];
        if (token.Kind != JinjaTokenKind.Eof)
        {
            _index++;
        }

        return token;
    }

    private List<JinjaStmt> ParseBody(string[] endTags)
    {
        Enter();
        var body = new List<JinjaStmt>();
        while (true)
        {
            var token = Current;
            switch (token.Kind)
            {
                case JinjaTokenKind.Eof:
                    if (endTags.Length > 0)
                    {
                        throw Error($"unexpected end of template, expected '{endTags[^1]}'", token);
                    }

                    Leave();
                    return body;
                case JinjaTokenKind.Text:
                    Next();
                    body.Add(new TextStmt(token.Value, PosOf(token)));
                    break;
                case JinjaTokenKind.VarBegin:
                    Next();
                    var value = ParseTuple();
                    Expect(JinjaTokenKind.VarEnd, "'}}'");
                    body.Add(new OutputStmt(value, PosOf(token)));
                    break;
                case JinjaTokenKind.BlockBegin:
                    var tag = Peek(1);
                    if (tag.Kind == JinjaTokenKind.Name && Array.IndexOf(endTags, tag.Value) >= 0)
                    {
                        Leave();
                        return body;
                    }

                    Next();
                    var statement = ParseStatement(token);
                    if (statement is not null)
                    {
                        body.Add(statement);
                    }

                    break;
                default:
                    throw Error($"unexpected '{token.Value}'", token);
            }
        }
    }

    /// <summary>Consumes the closing tag named <paramref name="name"/> (the block-begin token is current).</summary>
    private void EndTag(string name)
    {
        Next();
        ExpectName(name);
        Expect(JinjaTokenKind.BlockEnd, "'%}'");
    }

    private JinjaStmt? ParseStatement(JinjaToken begin)
    {
        var tag = Next();
        var pos = PosOf(begin);
        if (tag.Kind != JinjaTokenKind.Name)
        {
            throw Error("expected a tag name after '{%'", tag);
        }

        switch (tag.Value)
        {
            case "if":
                return ParseIf(pos);
            case "for":
                return ParseFor(pos);
            case "set":
                return ParseSet(pos);
            case "macro":
                return ParseMacro(pos);
            case "with":
                return ParseWith(pos);
            case "filter":
                {
                    var filters = ParseFilterChain();
                    Expect(JinjaTokenKind.BlockEnd, "'%}'");
                    var body = ParseBody(["endfilter"]);
                    EndTag("endfilter");
                    return new FilterBlockStmt(filters, body, pos);
                }

            case "generation":
                {
                    // transformers' AssistantTracker marks assistant spans; for rendering the block is transparent.
                    Expect(JinjaTokenKind.BlockEnd, "'%}'");
                    var body = ParseBody(["endgeneration"]);
                    EndTag("endgeneration");
                    return new IfStmt([(new LiteralExpr(true, pos), body)], null, pos);
                }

            case "break" or "continue":
                if (_loopDepth == 0)
                {
                    throw Error($"'{tag.Value}' outside of a loop", tag);
                }

                Expect(JinjaTokenKind.BlockEnd, "'%}'");
                return tag.Value == "break" ? new BreakStmt(pos) : new ContinueStmt(pos);
            case "do":
                {
                    var expr = ParseTuple();
                    Expect(JinjaTokenKind.BlockEnd, "'%}'");
                    return new SetStmt(["_"], null, expr, pos);
                }

            case "include" or "import" or "from" or "extends" or "block" or "call":
                // The wording predates this project's split from the chat-template layer; kept so errors read as before.
                throw Error($"the '{tag.Value}' tag is not supported in chat templates", tag);
            case "elif" or "else" or "endif" or "endfor" or "endset" or "endmacro" or "endwith" or "endfilter" or "endgeneration" or "endraw":
                throw Error($"unexpected '{tag.Value}'", tag);
            default:
                throw Error($"unknown tag '{tag.Value}'", tag);
        }
    }

    private IfStmt ParseIf(JinjaPos pos)
    {
        var branches = new List<(JinjaExpr, IReadOnlyList<JinjaStmt>)>();
        List<JinjaStmt>? elseBody = null;
        var condition = ParseExpression();
        Expect(JinjaTokenKind.BlockEnd, "'%}'");
        while (true)
        {
            var body = ParseBody(["elif", "else", "endif"]);
            branches.Add((condition, body));
            Next();
            var tag = Next();
            if (tag.Value == "elif")
            {
                condition = ParseExpression();
                Expect(JinjaTokenKind.BlockEnd, "'%}'");
                continue;
            }

            Expect(JinjaTokenKind.BlockEnd, "'%}'");
            if (tag.Value == "else")
            {
                elseBody = ParseBody(["endif"]);
                EndTag("endif");
            }

            return new IfStmt(branches, elseBody, pos);
        }
    }

    private ForStmt ParseFor(JinjaPos pos)
    {
        var targets = ParseTargets();
        ExpectName("in");
        var iterable = ParseExpression(withCondition: false);
        JinjaExpr? filter = null;
        if (Current.IsName("if"))
        {
            Next();
            filter = ParseExpression(withCondition: false);
        }

        if (Current.IsName("recursive"))
        {
            throw Error("recursive loops are not supported", Current);
        }

        Expect(JinjaTokenKind.BlockEnd, "'%}'");
        _loopDepth++;
        var body = ParseBody(["else", "endfor"]);
        _loopDepth--;
        List<JinjaStmt>? elseBody = null;
        if (Peek(1).Value == "else")
        {
            EndTag("else");
            elseBody = ParseBody(["endfor"]);
        }

        EndTag("endfor");
        return new ForStmt(targets, iterable, filter, body, elseBody, pos);
    }

    private List<string> ParseTargets()
    {
        var parenthesized = Current.IsOperator("(");
        if (parenthesized)
        {
            Next();
        }

        var targets = new List<string> { ExpectIdentifier() };
        while (Current.IsOperator(","))
        {
            Next();
            if (Current.Kind != JinjaTokenKind.Name)
            {
                break;
            }

            targets.Add(ExpectIdentifier());
        }

        if (parenthesized)
        {
            ExpectOperator(")");
        }

        return targets;
    }

    private JinjaStmt ParseSet(JinjaPos pos)
    {
        var targets = ParseTargets();
        string? attribute = null;
        if (targets.Count == 1 && Current.IsOperator("."))
        {
            Next();
            attribute = ExpectIdentifier();
        }

        if (Current.IsOperator("="))
        {
            Next();
            var value = ParseTuple();
            Expect(JinjaTokenKind.BlockEnd, "'%}'");
            return new SetStmt(targets, attribute, value, pos);
        }

        if (targets.Count != 1 || attribute is not null)
        {
            throw Error("expected '='", Current);
        }

        var filters = Current.IsOperator("|") ? ParseFilterChain() : [];
        Expect(JinjaTokenKind.BlockEnd, "'%}'");
        var body = ParseBody(["endset"]);
        EndTag("endset");
        return new SetBlockStmt(targets[0], filters, body, pos);
    }

    private MacroStmt ParseMacro(JinjaPos pos)
    {
        var name = ExpectIdentifier();
        var parameters = new List<(string, JinjaExpr?)>();
        ExpectOperator("(");
        while (!Current.IsOperator(")"))
        {
            if (parameters.Count > 0)
            {
                ExpectOperator(",");
                if (Current.IsOperator(")"))
                {
                    break;
                }
            }

            var parameter = ExpectIdentifier();
            JinjaExpr? defaultValue = null;
            if (Current.IsOperator("="))
            {
                Next();
                defaultValue = ParseExpression();
            }

            parameters.Add((parameter, defaultValue));
        }

        Next();
        Expect(JinjaTokenKind.BlockEnd, "'%}'");
        var outerLoopDepth = _loopDepth;
        _loopDepth = 0;
        var body = ParseBody(["endmacro"]);
        _loopDepth = outerLoopDepth;
        EndTag("endmacro");
        return new MacroStmt(name, parameters, body, pos);
    }

    private WithStmt ParseWith(JinjaPos pos)
    {
        var assignments = new List<(string, JinjaExpr)>();
        while (Current.Kind != JinjaTokenKind.BlockEnd)
        {
            if (assignments.Count > 0)
            {
                ExpectOperator(",");
            }

            var name = ExpectIdentifier();
            ExpectOperator("=");
            assignments.Add((name, ParseExpression()));
        }

        Next();
        var body = ParseBody(["endwith"]);
        EndTag("endwith");
        return new WithStmt(assignments, body, pos);
    }

    private List<FilterExpr> ParseFilterChain()
    {
        var filters = new List<FilterExpr>();
        if (Current.IsOperator("|"))
        {
            Next();
        }

        filters.Add(ParseFilter(null));
        while (Current.IsOperator("|"))
        {
            Next();
            filters.Add(ParseFilter(null));
        }

        return filters;
    }

    /// <summary>Parses <c>a, b</c> into a tuple (a list) or returns the single expression.</summary>
    private JinjaExpr ParseTuple()
    {
        var first = ParseExpression();
        if (!Current.IsOperator(","))
        {
            return first;
        }

        var items = new List<JinjaExpr> { first };
        while (Current.IsOperator(","))
        {
            Next();
            if (Current.Kind is JinjaTokenKind.VarEnd or JinjaTokenKind.BlockEnd)
            {
                break;
            }

            items.Add(ParseExpression());
        }

        return new ListExpr(items, first.Pos);
    }

    private JinjaExpr ParseExpression(bool withCondition = true)
    {
        Enter();
        var expr = ParseOr();
        while (withCondition && Current.IsName("if"))
        {
            Next();
            var condition = ParseOr();
            JinjaExpr? otherwise = null;
            if (Current.IsName("else"))
            {
                Next();
                otherwise = ParseExpression();
            }

            expr = new ConditionalExpr(condition, expr, otherwise, expr.Pos);
        }

        Leave();
        return expr;
    }

    private JinjaExpr ParseOr()
    {
        var left = ParseAnd();
        while (Current.IsName("or"))
        {
            var op = Next();
            left = new BinaryExpr("or", left, ParseAnd(), PosOf(op));
        }

        return left;
    }

    private JinjaExpr ParseAnd()
    {
        var left = ParseNot();
        while (Current.IsName("and"))
        {
            var op = Next();
            left = new BinaryExpr("and", left, ParseNot(), PosOf(op));
        }

        return left;
    }

    private JinjaExpr ParseNot()
    {
        if (Current.IsName("not"))
        {
            var op = Next();
            Enter();
            var operand = ParseNot();
            Leave();
            return new UnaryExpr("not", operand, PosOf(op));
        }

        return ParseCompare();
    }

    private JinjaExpr ParseCompare()
    {
        var first = ParseMath1();
        List<(string, JinjaExpr)>? rest = null;
        while (true)
        {
            string op;
            var token = Current;
            if (token.Kind == JinjaTokenKind.Operator && token.Value is "==" or "!=" or "<" or ">" or "<=" or ">=")
            {
                op = token.Value;
                Next();
            }
            else if (token.IsName("in"))
            {
                op = "in";
                Next();
            }
            else if (token.IsName("not") && Peek(1).IsName("in"))
            {
                op = "not in";
                Next();
                Next();
            }
            else
            {
                break;
            }

            (rest ??= []).Add((op, ParseMath1()));
        }

        return rest is null ? first : new CompareExpr(first, rest, first.Pos);
    }

    private JinjaExpr ParseMath1()
    {
        var left = ParseConcat();
        while (Current.Kind == JinjaTokenKind.Operator && Current.Value is "+" or "-")
        {
            var op = Next();
            left = new BinaryExpr(op.Value, left, ParseConcat(), PosOf(op));
        }

        return left;
    }

    private JinjaExpr ParseConcat()
    {
        var left = ParseMath2();
        while (Current.IsOperator("~"))
        {
            var op = Next();
            left = new BinaryExpr("~", left, ParseMath2(), PosOf(op));
        }

        return left;
    }

    private JinjaExpr ParseMath2()
    {
        var left = ParsePow();
        while (Current.Kind == JinjaTokenKind.Operator && Current.Value is "*" or "/" or "//" or "%")
        {
            var op = Next();
            left = new BinaryExpr(op.Value, left, ParsePow(), PosOf(op));
        }

        return left;
    }

    private JinjaExpr ParsePow()
    {
        var left = ParseUnary(withFilter: true);
        while (Current.IsOperator("**"))
        {
            var op = Next();
            left = new BinaryExpr("**", left, ParseUnary(withFilter: true), PosOf(op));
        }

        return left;
    }

    private JinjaExpr ParseUnary(bool withFilter)
    {
        Enter();
        JinjaExpr expr;
        if (Current.Kind == JinjaTokenKind.Operator && Current.Value is "-" or "+")
        {
            var op = Next();
            expr = new UnaryExpr(op.Value, ParseUnary(withFilter: false), PosOf(op));
        }
        else
        {
            expr = ParsePostfix(ParsePrimary());
        }

        if (withFilter)
        {
            expr = ParseFilterTail(expr);
        }

        Leave();
        return expr;
    }

    private JinjaExpr ParseFilterTail(JinjaExpr expr)
    {
        while (true)
        {
            if (Current.IsOperator("|"))
            {
                Next();
                expr = ParseFilter(expr);
            }
            else if (Current.IsName("is"))
            {
                Next();
                expr = ParseTest(expr);
            }
            else if (Current.IsOperator("("))
            {
                expr = ParseCall(expr);
            }
            else
            {
                return expr;
            }
        }
    }

    private FilterExpr ParseFilter(JinjaExpr? input)
    {
        var nameToken = Current;
        var name = ExpectIdentifier();
        while (Current.IsOperator("."))
        {
            Next();
            name += "." + ExpectIdentifier();
        }

        if (!JinjaFilters.Exists(name))
        {
            throw Error($"no filter named '{name}'", nameToken);
        }

        IReadOnlyList<JinjaExpr> args = [];
        IReadOnlyList<(string, JinjaExpr)> kwargs = [];
        if (Current.IsOperator("("))
        {
            (args, kwargs) = ParseCallArgs();
        }

        return new FilterExpr(input, name, args, kwargs, PosOf(nameToken));
    }

    private TestExpr ParseTest(JinjaExpr input)
    {
        var negated = false;
        if (Current.IsName("not"))
        {
            Next();
            negated = true;
        }

        var nameToken = Current;
        var name = ExpectIdentifier();
        if (!JinjaTests.Exists(name))
        {
            throw Error($"no test named '{name}'", nameToken);
        }

        IReadOnlyList<JinjaExpr> args = [];
        var token = Current;
        if (token.IsOperator("("))
        {
            (args, var kwargs) = ParseCallArgs();
            if (kwargs.Count > 0)
            {
                throw Error("tests take no keyword arguments", token);
            }
        }
        else if (token.Kind is JinjaTokenKind.String or JinjaTokenKind.Integer or JinjaTokenKind.Float
                 || token.IsOperator("[") || token.IsOperator("{")
                 || (token.Kind == JinjaTokenKind.Name && !NonTestArgNames.Contains(token.Value)))
        {
            Enter();
            args = [ParsePostfix(ParsePrimary())];
            Leave();
        }

        return new TestExpr(input, name, args, negated, PosOf(nameToken));
    }

    private JinjaExpr ParsePostfix(JinjaExpr expr)
    {
        while (true)
        {
            var token = Current;
            if (token.IsOperator("."))
            {
                Next();
                var member = Next();
                expr = member.Kind switch
                {
                    JinjaTokenKind.Name => new MemberExpr(expr, member.Value, PosOf(member)),
                    JinjaTokenKind.Integer => new IndexExpr(expr, new LiteralExpr(ParseInteger(member), PosOf(member)), PosOf(member)),
                    _ => throw Error("expected an attribute name after '.'", member),
                };
            }
            else if (token.IsOperator("["))
            {
                Next();
                expr = ParseSubscript(expr, PosOf(token));
            }
            else if (token.IsOperator("("))
            {
                expr = ParseCall(expr);
            }
            else
            {
                return expr;
            }
        }
    }

    private JinjaExpr ParseSubscript(JinjaExpr target, JinjaPos pos)
    {
        JinjaExpr? start = null;
        if (!Current.IsOperator(":"))
        {
            start = ParseExpression();
            if (Current.IsOperator("]"))
            {
                Next();
                return new IndexExpr(target, start, pos);
            }
        }

        ExpectOperator(":");
        JinjaExpr? stop = null;
        JinjaExpr? step = null;
        if (!Current.IsOperator("]") && !Current.IsOperator(":"))
        {
            stop = ParseExpression();
        }

        if (Current.IsOperator(":"))
        {
            Next();
            if (!Current.IsOperator("]"))
            {
                step = ParseExpression();
            }
        }

        ExpectOperator("]");
        return new SliceExpr(target, start, stop, step, pos);
    }

    private CallExpr ParseCall(JinjaExpr callee)
    {
        var (args, kwargs) = ParseCallArgs();
        return new CallExpr(callee, args, kwargs, callee.Pos);
    }

    private (List<JinjaExpr> Args, List<(string, JinjaExpr)> Kwargs) ParseCallArgs()
    {
        ExpectOperator("(");
        var args = new List<JinjaExpr>();
        var kwargs = new List<(string, JinjaExpr)>();
        var first = true;
        while (!Current.IsOperator(")"))
        {
            if (!first)
            {
                ExpectOperator(",");
                if (Current.IsOperator(")"))
                {
                    break;
                }
            }

            first = false;
            if (Current.Kind == JinjaTokenKind.Name && Peek(1).IsOperator("="))
            {
                var name = Next().Value;
                Next();
                kwargs.Add((name, ParseExpression()));
            }
            else
            {
                if (kwargs.Count > 0)
                {
                    throw Error("positional argument follows keyword argument", Current);
                }

                args.Add(ParseExpression());
            }
        }

        Next();
        return (args, kwargs);
    }

    private JinjaExpr ParsePrimary()
    {
        var token = Next();
        var pos = PosOf(token);
        switch (token.Kind)
        {
            case JinjaTokenKind.Name:
                return token.Value switch
                {
                    "true" or "True" => new LiteralExpr(true, pos),
                    "false" or "False" => new LiteralExpr(false, pos),
                    "none" or "None" => new LiteralExpr(null, pos),
                    _ => new NameExpr(token.Value, pos),
                };
            case JinjaTokenKind.String:
                var text = token.Value;
                while (Current.Kind == JinjaTokenKind.String)
                {
                    text += Next().Value;
                }

                return new LiteralExpr(text, pos);
            case JinjaTokenKind.Integer:
                return new LiteralExpr(ParseInteger(token), pos);
            case JinjaTokenKind.Float:
                if (!double.TryParse(token.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var d))
                {
                    throw Error($"invalid number '{token.Value}'", token);
                }

                return new LiteralExpr(d, pos);
            case JinjaTokenKind.Operator when token.Value == "(":
                if (Current.IsOperator(")"))
                {
                    Next();
                    return new ListExpr([], pos);
                }

                var inner = ParseExpression();
                if (Current.IsOperator(","))
                {
                    var items = new List<JinjaExpr> { inner };
                    while (Current.IsOperator(","))
                    {
                        Next();
                        if (Current.IsOperator(")"))
                        {
                            break;
                        }

                        items.Add(ParseExpression());
                    }

                    inner = new ListExpr(items, pos);
                }

                ExpectOperator(")");
                return inner;
            case JinjaTokenKind.Operator when token.Value == "[":
                {
                    var items = new List<JinjaExpr>();
                    while (!Current.IsOperator("]"))
                    {
                        if (items.Count > 0)
                        {
                            ExpectOperator(",");
                            if (Current.IsOperator("]"))
                            {
                                break;
                            }
                        }

                        items.Add(ParseExpression());
                    }

                    Next();
                    return new ListExpr(items, pos);
                }

            case JinjaTokenKind.Operator when token.Value == "{":
                {
                    var items = new List<(JinjaExpr, JinjaExpr)>();
                    while (!Current.IsOperator("}"))
                    {
                        if (items.Count > 0)
                        {
                            ExpectOperator(",");
                            if (Current.IsOperator("}"))
                            {
                                break;
                            }
                        }

                        var key = ParseExpression();
                        ExpectOperator(":");
                        items.Add((key, ParseExpression()));
                    }

                    Next();
                    return new DictExpr(items, pos);
                }

            default:
                throw Error(token.Kind switch
                {
                    JinjaTokenKind.Eof => "unexpected end of template",
                    JinjaTokenKind.VarEnd => "unexpected '}}', expected an expression",
                    JinjaTokenKind.BlockEnd => "unexpected '%}', expected an expression",
                    _ => $"unexpected '{token.Value}'",
                }, token);
        }
    }

    private long ParseInteger(JinjaToken token) =>
        long.TryParse(token.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw Error($"integer literal '{token.Value}' is too large", token);

    private void Enter()
    {
        if (++_depth > MaxDepth || !RuntimeHelpers.TryEnsureSufficientExecutionStack())
        {
            throw Error("template nesting is too deep", Current);
        }
    }

    private void Leave() => _depth--;

    private void Expect(JinjaTokenKind kind, string what)
    {
        var token = Current;
        if (token.Kind != kind)
        {
            throw Error($"expected {what}, found {Describe(token)}", token);
        }

        Next();
    }

    private void ExpectOperator(string op)
    {
        var token = Current;
        if (!token.IsOperator(op))
        {
            throw Error($"expected '{op}', found {Describe(token)}", token);
        }

        Next();
    }

    private void ExpectName(string name)
    {
        var token = Current;
        if (!token.IsName(name))
        {
            throw Error($"expected '{name}', found {Describe(token)}", token);
        }

        Next();
    }

    private string ExpectIdentifier()
    {
        var token = Current;
        if (token.Kind != JinjaTokenKind.Name)
        {
            throw Error($"expected a name, found {Describe(token)}", token);
        }

        Next();
        return token.Value;
    }

    private static string Describe(JinjaToken token) => token.Kind switch
    {
        JinjaTokenKind.Eof => "end of template",
        JinjaTokenKind.VarEnd => "'}}'",
        JinjaTokenKind.BlockEnd => "'%}'",
        JinjaTokenKind.VarBegin => "'{{'",
        JinjaTokenKind.BlockBegin => "'{%'",
        JinjaTokenKind.Text => "template text",
        JinjaTokenKind.String => "a string",
        _ => $"'{token.Value}'",
    };

    private JinjaException Error(string message, JinjaToken at) => new(message, at.Line, at.Column);
}
