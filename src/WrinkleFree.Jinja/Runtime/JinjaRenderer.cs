using System.Runtime.CompilerServices;
using System.Text;
using WrinkleFree.Jinja.Syntax;

namespace WrinkleFree.Jinja.Runtime;

/// <summary>
/// Walks the AST and writes the output. Budgets on steps, output size and call depth turn runaway templates
/// (infinite macro recursion, huge repeats) into <see cref="JinjaException"/> instead of hangs.
/// </summary>
internal sealed class JinjaRenderer
{
    public const int MaxOutputChars = 8 * 1024 * 1024;
    private const long MaxSteps = 2_000_000;
    private const int MaxCallDepth = 40;

    private JinjaScope _scope;
    private long _steps;
    private int _callDepth;

    private enum Flow
    {
        Normal,
        Break,
        Continue,
    }

    private JinjaRenderer(JinjaScope scope) => _scope = scope;

    public static string Render(IReadOnlyList<JinjaStmt> body, JinjaScope globals)
    {
        var renderer = new JinjaRenderer(new JinjaScope(globals));
        var sb = new StringBuilder();
        renderer.Exec(body, sb);
        return sb.ToString();
    }

    private Flow Exec(IReadOnlyList<JinjaStmt> body, StringBuilder sb)
    {
        foreach (var statement in body)
        {
            var flow = ExecOne(statement, sb);
            if (flow != Flow.Normal)
            {
                return flow;
            }
        }

        return Flow.Normal;
    }

    private Flow ExecOne(JinjaStmt statement, StringBuilder sb)
    {
        if (!RuntimeHelpers.TryEnsureSufficientExecutionStack())
        {
            throw new JinjaException("template evaluation is nested too deeply", statement.Pos.Line, statement.Pos.Column);
        }

        try
        {
            Step();
            switch (statement)
            {
                case TextStmt text:
                    Append(sb, text.Text);
                    return Flow.Normal;
                case OutputStmt output:
                    Append(sb, JinjaValues.ToStr(Eval(output.Value)));
                    return Flow.Normal;
                case IfStmt branches:
                    foreach (var (condition, body) in branches.Branches)
                    {
                        if (JinjaValues.Truthy(Eval(condition)))
                        {
                            return Exec(body, sb);
                        }
                    }

                    return branches.Else is null ? Flow.Normal : Exec(branches.Else, sb);
                case ForStmt loop:
                    ExecFor(loop, sb);
                    return Flow.Normal;
                case SetStmt set:
                    ExecSet(set);
                    return Flow.Normal;
                case SetBlockStmt setBlock:
                    _scope.Set(setBlock.Target, RenderFiltered(setBlock.Body, setBlock.Filters));
                    return Flow.Normal;
                case FilterBlockStmt filterBlock:
                    Append(sb, JinjaValues.ToStr(RenderFiltered(filterBlock.Body, filterBlock.Filters)));
                    return Flow.Normal;
                case MacroStmt macro:
                    var closure = _scope;
                    _scope.Set(macro.Name, new JinjaCallable(macro.Name, (args, kwargs) => CallMacro(macro, closure, args, kwargs)));
                    return Flow.Normal;
                case WithStmt with:
                    ExecWith(with, sb);
                    return Flow.Normal;
                case BreakStmt:
                    return Flow.Break;
                case ContinueStmt:
                    return Flow.Continue;
                default:
                    throw new JinjaError($"unsupported statement {statement.GetType().Name}");
            }
        }
        catch (JinjaError e)
        {
            throw new JinjaException(e.Message, statement.Pos.Line, statement.Pos.Column);
        }
    }

    private void ExecFor(ForStmt loop, StringBuilder sb)
    {
        var items = JinjaValues.Iterate(Eval(loop.Iterable));
        var outer = _scope;
        _scope = new JinjaScope(outer);
        try
        {
            if (loop.Filter is not null)
            {
                var kept = new List<object?>();
                foreach (var item in items)
                {
                    Step();
                    Assign(loop.Targets, item);
                    if (JinjaValues.Truthy(Eval(loop.Filter)))
                    {
                        kept.Add(item);
                    }
                }

                items = kept;
            }

            var context = new JinjaLoop(items);
            for (var i = 0; i < items.Count; i++)
            {
                Step();
                context.Index0 = i;
                Assign(loop.Targets, items[i]);
                _scope.Set("loop", context);
                if (Exec(loop.Body, sb) == Flow.Break)
                {
                    break;
                }
            }
        }
        finally
        {
            _scope = outer;
        }

        if (items.Count == 0 && loop.Else is not null)
        {
            Exec(loop.Else, sb);
        }
    }

    private void ExecSet(SetStmt set)
    {
        var value = Eval(set.Value);
        if (set.Attribute is null)
        {
            Assign(set.Targets, value);
            return;
        }

        if (!_scope.TryGet(set.Targets[0], out var target) || target is not JinjaNamespace ns)
        {
            throw new JinjaError($"cannot assign attribute '{set.Attribute}' on '{set.Targets[0]}': only namespace() objects allow it");
        }

        ns.Attributes[set.Attribute] = value;
    }

    private void ExecWith(WithStmt with, StringBuilder sb)
    {
        var values = with.Assignments.Select(a => (a.Name, Value: Eval(a.Value))).ToList();
        var outer = _scope;
        _scope = new JinjaScope(outer);
        try
        {
            foreach (var (name, value) in values)
            {
                _scope.Set(name, value);
            }

            Exec(with.Body, sb);
        }
        finally
        {
            _scope = outer;
        }
    }

    private object? RenderFiltered(IReadOnlyList<JinjaStmt> body, IReadOnlyList<FilterExpr> filters)
    {
        var inner = new StringBuilder();
        Exec(body, inner);
        object? value = inner.ToString();
        foreach (var filter in filters)
        {
            value = ApplyFilter(filter, value);
        }

        return value;
    }

    private void Assign(IReadOnlyList<string> targets, object? value)
    {
        if (targets.Count == 1)
        {
            _scope.Set(targets[0], value);
            return;
        }

        var items = JinjaValues.Iterate(value);
        if (items.Count != targets.Count)
        {
            throw new JinjaError($"cannot unpack {items.Count} values into {targets.Count} names");
        }

        for (var i = 0; i < targets.Count; i++)
        {
            _scope.Set(targets[i], items[i]);
        }
    }

    private string CallMacro(MacroStmt macro, JinjaScope closure, List<object?> args, Dictionary<string, object?> kwargs)
    {
        if (_callDepth >= MaxCallDepth)
        {
            throw new JinjaError($"macro '{macro.Name}' recursed more than {MaxCallDepth} levels deep");
        }

        var outer = _scope;
        _scope = new JinjaScope(closure);
        _callDepth++;
        try
        {
            for (var i = 0; i < macro.Parameters.Count; i++)
            {
                var (name, defaultValue) = macro.Parameters[i];
                object? value;
                if (i < args.Count)
                {
                    value = args[i];
                }
                else if (kwargs.Remove(name, out var given))
                {
                    value = given;
                }
                else
                {
                    value = defaultValue is null ? new JinjaUndefined(name) : Eval(defaultValue);
                }

                _scope.Set(name, value);
            }

            _scope.Set("varargs", args.Skip(macro.Parameters.Count).ToList());
            var extra = new OrderedDictionary<string, object?>(StringComparer.Ordinal);
            foreach (var (k, v) in kwargs)
            {
                extra[k] = v;
            }

            _scope.Set("kwargs", extra);
            var sb = new StringBuilder();
            Exec(macro.Body, sb);
            return sb.ToString();
        }
        finally
        {
            _callDepth--;
            _scope = outer;
        }
    }

    private void Step()
    {
        if (++_steps > MaxSteps)
        {
            throw new JinjaError("template exceeded its evaluation budget (a runaway loop?)");
        }
    }

    private static void Append(StringBuilder sb, string text)
    {
        if (sb.Length + (long)text.Length > MaxOutputChars)
        {
            throw new JinjaError("template output is too large");
        }

        sb.Append(text);
    }

    private object? Eval(JinjaExpr expr)
    {
        if (!RuntimeHelpers.TryEnsureSufficientExecutionStack())
        {
            throw new JinjaException("template evaluation is nested too deeply", expr.Pos.Line, expr.Pos.Column);
        }

        try
        {
            return EvalCore(expr);
        }
        catch (JinjaError e)
        {
            throw new JinjaException(e.Message, expr.Pos.Line, expr.Pos.Column);
        }
    }

    private object? EvalCore(JinjaExpr expr)
    {
        switch (expr)
        {
            case LiteralExpr literal:
                return literal.Value;
            case NameExpr name:
                return _scope.TryGet(name.Name, out var value) ? value : new JinjaUndefined(name.Name);
            case ListExpr list:
                {
                    var items = new List<object?>(list.Items.Count);
                    foreach (var item in list.Items)
                    {
                        items.Add(Eval(item));
                    }

                    return items;
                }

            case DictExpr dict:
                {
                    var result = new OrderedDictionary<string, object?>(StringComparer.Ordinal);
                    foreach (var (k, v) in dict.Items)
                    {
                        var key = Eval(k);
                        result[JinjaValues.KeyOf(key) ?? throw new JinjaError($"unhashable type: '{JinjaValues.TypeName(key)}'")] = Eval(v);
                    }

                    return result;
                }

            case MemberExpr member:
                return JinjaMembers.GetAttr(Eval(member.Target), member.Name);
            case IndexExpr index:
                return JinjaMembers.GetItem(Eval(index.Target), Eval(index.Index));
            case SliceExpr slice:
                return JinjaMembers.Slice(
                    Eval(slice.Target),
                    slice.Start is null ? null : Eval(slice.Start),
                    slice.Stop is null ? null : Eval(slice.Stop),
                    slice.Step is null ? null : Eval(slice.Step));
            case CallExpr call:
                return Call(call);
            case FilterExpr filter:
                return ApplyFilter(filter, filter.Input is null ? new JinjaUndefined("") : Eval(filter.Input));
            case TestExpr test:
                {
                    var args = new List<object?>(test.Args.Count);
                    foreach (var arg in test.Args)
                    {
                        args.Add(Eval(arg));
                    }

                    return JinjaTests.Apply(test.Name, Eval(test.Input), args) != test.Negated;
                }

            case UnaryExpr unary:
                {
                    var operand = Eval(unary.Operand);
                    return unary.Op switch
                    {
                        "not" => !JinjaValues.Truthy(operand),
                        "-" => JinjaOperators.Negate(operand),
                        _ => JinjaValues.IsNumber(operand) ? operand : throw new JinjaError($"bad operand type for unary +: '{JinjaValues.TypeName(operand)}'"),
                    };
                }

            case BinaryExpr binary:
                {
                    var left = Eval(binary.Left);
                    return binary.Op switch
                    {
                        "and" => JinjaValues.Truthy(left) ? Eval(binary.Right) : left,
                        "or" => JinjaValues.Truthy(left) ? left : Eval(binary.Right),
                        _ => JinjaOperators.Binary(binary.Op, left, Eval(binary.Right)),
                    };
                }

            case CompareExpr compare:
                {
                    var left = Eval(compare.First);
                    foreach (var (op, operand) in compare.Rest)
                    {
                        var right = Eval(operand);
                        if (!JinjaOperators.Compare(op, left, right))
                        {
                            return false;
                        }

                        left = right;
                    }

                    return true;
                }

            case ConditionalExpr conditional:
                return JinjaValues.Truthy(Eval(conditional.Condition))
                    ? Eval(conditional.Then)
                    : conditional.Else is null ? new JinjaUndefined("") : Eval(conditional.Else);
            default:
                throw new JinjaError($"unsupported expression {expr.GetType().Name}");
        }
    }

    private object? Call(CallExpr call)
    {
        Step();
        var callee = Eval(call.Callee);
        var args = new List<object?>(call.Args.Count);
        foreach (var arg in call.Args)
        {
            args.Add(Eval(arg));
        }

        var kwargs = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (name, arg) in call.Kwargs)
        {
            kwargs[name] = Eval(arg);
        }

        return callee switch
        {
            JinjaCallable function => function.Invoke(args, kwargs),
            JinjaBoundMethod method => JinjaMembers.CallMethod(method, args, kwargs),
            JinjaUndefined undefined => throw new JinjaError(undefined.Name.Length > 0 ? $"'{undefined.Name}' is undefined" : "called an undefined value"),
            _ => throw new JinjaError($"'{JinjaValues.TypeName(callee)}' object is not callable"),
        };
    }

    private object? ApplyFilter(FilterExpr filter, object? input)
    {
        var args = new List<object?>(filter.Args.Count);
        foreach (var arg in filter.Args)
        {
            args.Add(Eval(arg));
        }

        var kwargs = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (name, arg) in filter.Kwargs)
        {
            kwargs[name] = Eval(arg);
        }

        return JinjaFilters.Apply(filter.Name, input, args, kwargs);
    }
}
