namespace WrinkleFree.Jinja.Runtime;

/// <summary>The tests usable after <c>is</c> and by select/reject/selectattr/rejectattr.</summary>
internal static class JinjaTests
{
    private static readonly HashSet<string> Names =
    [
        "defined", "undefined", "none", "string", "mapping", "sequence", "iterable", "number", "integer", "float", "boolean",
        "true", "false", "callable", "odd", "even", "divisibleby", "eq", "equalto", "==", "sameas", "ne", "!=", "lt", "<",
        "lessthan", "le", "<=", "gt", ">", "greaterthan", "ge", ">=", "in", "lower", "upper", "escaped",
    ];

    public static bool Exists(string name) => Names.Contains(name);

    public static bool Apply(string name, object? value, List<object?> args)
    {
        object? Arg() => args.Count > 0 ? args[0] : throw new JinjaError($"test '{name}' needs an argument");

        return name switch
        {
            "defined" => value is not JinjaUndefined,
            "undefined" => value is JinjaUndefined,
            "none" => value is null,
            "string" => value is string,
            "mapping" => value is OrderedDictionary<string, object?>,
            "sequence" => value is string or List<object?> or OrderedDictionary<string, object?>,
            // Jinja's Undefined defines __iter__, so an undefined value counts as iterable.
            "iterable" => value is string or List<object?> or OrderedDictionary<string, object?> or JinjaUndefined,
            "number" => JinjaValues.IsNumber(value),
            "integer" => value is long,
            "float" => value is double,
            "boolean" => value is bool,
            "true" => value is true,
            "false" => value is false,
            "callable" => value is JinjaCallable or JinjaBoundMethod,
            "odd" => JinjaValues.AsLong(value) % 2 != 0,
            "even" => JinjaValues.AsLong(value) % 2 == 0,
            "divisibleby" => JinjaValues.AsLong(Arg()) is var d && d != 0 ? JinjaValues.AsLong(value) % d == 0 : throw new JinjaError("divisibleby 0"),
            "eq" or "equalto" or "==" or "sameas" => JinjaValues.ValueEquals(value, Arg()),
            "ne" or "!=" => !JinjaValues.ValueEquals(value, Arg()),
            "lt" or "<" or "lessthan" => JinjaOperators.Compare("<", value, Arg()),
            "le" or "<=" => JinjaOperators.Compare("<=", value, Arg()),
            "gt" or ">" or "greaterthan" => JinjaOperators.Compare(">", value, Arg()),
            "ge" or ">=" => JinjaOperators.Compare(">=", value, Arg()),
            "in" => JinjaValues.Contains(Arg(), value),
            "lower" => value is string s && s == s.ToLowerInvariant(),
            "upper" => value is string u && u == u.ToUpperInvariant(),
            "escaped" => false,
            _ => throw new JinjaError($"no test named '{name}'"),
        };
    }
}
