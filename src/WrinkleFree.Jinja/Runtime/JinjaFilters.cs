using System.Globalization;
using System.Net;
using System.Text;

namespace WrinkleFree.Jinja.Runtime;

/// <summary>The built-in filters chat templates use, with Jinja's argument names and defaults.</summary>
internal static class JinjaFilters
{
    private static readonly HashSet<string> Names =
    [
        "abs", "attr", "capitalize", "count", "d", "default", "dictsort", "e", "escape", "first", "float", "forceescape",
        "indent", "int", "items", "join", "last", "length", "list", "lower", "map", "max", "min", "pprint", "reject",
        "rejectattr", "replace", "reverse", "round", "safe", "select", "selectattr", "sort", "string", "sum", "title",
        "tojson", "trim", "unique", "upper", "wordcount",
    ];

    public static bool Exists(string name) => Names.Contains(name);

    public static object? Apply(string name, object? input, List<object?> args, Dictionary<string, object?> kwargs)
    {
        object? Arg(int i, string key, object? fallback = null) =>
            i >= 0 && i < args.Count ? args[i] : kwargs.TryGetValue(key, out var v) ? v : fallback;
        bool Flag(int i, string key) => JinjaValues.Truthy(Arg(i, key, false));

        switch (name)
        {
            case "abs":
                return input switch
                {
                    long l => l == long.MinValue ? throw new JinjaError("integer overflow") : (object)Math.Abs(l),
                    double d => Math.Abs(d),
                    bool b => b ? 1L : 0L,
                    _ => throw new JinjaError($"bad operand type for abs(): '{JinjaValues.TypeName(input)}'"),
                };
            case "attr":
                return JinjaMembers.GetAttr(input, JinjaValues.ToStr(Arg(0, "name")));
            case "capitalize":
                {
                    var s = JinjaValues.ToStr(input);
                    return s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..].ToLowerInvariant();
                }

            case "count" or "length":
                return JinjaValues.Length(input);
            case "d" or "default":
                return input is JinjaUndefined || (Flag(1, "boolean") && !JinjaValues.Truthy(input)) ? Arg(0, "default_value", "") : input;
            case "dictsort":
                return DictSort(input, Flag(0, "case_sensitive"), JinjaValues.ToStr(Arg(1, "by", "key")), Flag(2, "reverse"));
            case "e" or "escape" or "forceescape":
                return WebUtility.HtmlEncode(JinjaValues.ToStr(input));
            case "first":
                {
                    var items = JinjaValues.Iterate(input);
                    return items.Count > 0 ? items[0] : new JinjaUndefined("first");
                }

            case "last":
                {
                    var items = JinjaValues.Iterate(input);
                    return items.Count > 0 ? items[^1] : new JinjaUndefined("last");
                }

            case "float":
                return ToFloat(input, Arg(0, "default", 0.0));
            case "indent":
                return Indent(JinjaValues.ToStr(input), Arg(0, "width", 4L), Flag(1, "first"), Flag(2, "blank"));
            case "int":
                return ToInt(input, Arg(0, "default", 0L));
            case "items":
                return input switch
                {
                    OrderedDictionary<string, object?> dict => dict.Select(kv => (object?)new List<object?> { kv.Key, kv.Value }).ToList(),
                    JinjaUndefined => new List<object?>(),
                    _ => throw new JinjaError($"can only get item pairs from a mapping, not {JinjaValues.TypeName(input)}"),
                };
            case "join":
                {
                    var items = Attribute(JinjaValues.Iterate(input), Arg(1, "attribute"));
                    var joined = string.Join(JinjaValues.ToStr(Arg(0, "d", "")), items.Select(JinjaValues.ToStr));
                    JinjaOperators.CheckLength(joined.Length);
                    return joined;
                }

            case "list":
                return JinjaValues.Iterate(input);
            case "lower":
                return JinjaValues.ToStr(input).ToLowerInvariant();
            case "upper":
                return JinjaValues.ToStr(input).ToUpperInvariant();
            case "title":
                return JinjaMembers.Title(JinjaValues.ToStr(input));
            case "map":
                return Map(input, args, kwargs);
            case "max" or "min":
                {
                    var items = JinjaValues.Iterate(input);
                    if (items.Count == 0)
                    {
                        return new JinjaUndefined(name);
                    }

                    var sorted = Sort(items, Flag(0, "case_sensitive"), Arg(1, "attribute"));
                    return name == "min" ? sorted[0] : sorted[^1];
                }

            case "pprint":
                return JinjaValues.Repr(input);
            case "select" or "reject":
                return Select(JinjaValues.Iterate(input), null, args, name == "select");
            case "selectattr" or "rejectattr":
                if (args.Count == 0)
                {
                    throw new JinjaError($"{name} needs an attribute name");
                }

                return Select(JinjaValues.Iterate(input), JinjaValues.ToStr(args[0]), args.Skip(1).ToList(), name == "selectattr");
            case "replace":
                {
                    var count = Arg(2, "count");
                    return JinjaMembers.Replace(
                        JinjaValues.ToStr(input), JinjaValues.ToStr(Arg(0, "old")), JinjaValues.ToStr(Arg(1, "new")),
                        count is null or JinjaUndefined ? -1 : JinjaValues.AsLong(count));
                }

            case "reverse":
                {
                    if (input is string s)
                    {
                        var chars = JinjaValues.Characters(s);
                        chars.Reverse();
                        return string.Concat(chars.Select(c => (string)c!));
                    }

                    var items = JinjaValues.Iterate(input);
                    items.Reverse();
                    return items;
                }

            case "round":
                {
                    var value = JinjaValues.AsDouble(input);
                    var precision = (int)Math.Clamp(JinjaValues.AsLong(Arg(0, "precision", 0L)), 0, 15);
                    var scale = Math.Pow(10, precision);
                    return JinjaValues.ToStr(Arg(1, "method", "common")) switch
                    {
                        "common" => Math.Round(value, precision, MidpointRounding.AwayFromZero),
                        "ceil" => Math.Ceiling(value * scale) / scale,
                        "floor" => Math.Floor(value * scale) / scale,
                        _ => throw new JinjaError("method must be common, ceil or floor"),
                    };
                }

            case "safe":
                return input;
            case "sort":
                {
                    var sorted = Sort(JinjaValues.Iterate(input), Flag(1, "case_sensitive"), Arg(2, "attribute"));
                    if (Flag(0, "reverse"))
                    {
                        sorted.Reverse();
                    }

                    return sorted;
                }

            case "string":
                return JinjaValues.ToStr(input);
            case "sum":
                {
                    object? total = Arg(1, "start", 0L);
                    foreach (var item in Attribute(JinjaValues.Iterate(input), Arg(0, "attribute")))
                    {
                        total = JinjaOperators.Binary("+", total, item);
                    }

                    return total;
                }

            case "tojson":
                {
                    var indent = Arg(0, "indent");
                    return JinjaJson.Serialize(
                        input, indent is null or JinjaUndefined ? null : (int)Math.Clamp(JinjaValues.AsLong(indent), 0, 16),
                        JinjaValues.Truthy(Arg(-1, "sort_keys", false)), JinjaValues.Truthy(Arg(-1, "ensure_ascii", false)));
                }

            case "trim":
                {
                    var s = JinjaValues.ToStr(input);
                    return Arg(0, "chars") is string chars ? s.Trim(chars.ToCharArray()) : s.Trim();
                }

            case "unique":
                {
                    var caseSensitive = Flag(0, "case_sensitive");
                    var attribute = Arg(1, "attribute");
                    var seen = new List<object?>();
                    var result = new List<object?>();
                    foreach (var item in JinjaValues.Iterate(input))
                    {
                        var key = Fold(attribute is null ? item : JinjaMembers.GetItem(item, attribute), caseSensitive);
                        if (!seen.Exists(k => JinjaValues.ValueEquals(k, key)))
                        {
                            seen.Add(key);
                            result.Add(item);
                        }
                    }

                    return result;
                }

            case "wordcount":
                return (long)JinjaValues.ToStr(input).Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length;
            default:
                throw new JinjaError($"no filter named '{name}'");
        }
    }

    private static object? Fold(object? value, bool caseSensitive) =>
        !caseSensitive && value is string s ? s.ToLowerInvariant() : value;

    private static List<object?> Sort(List<object?> items, bool caseSensitive, object? attribute)
    {
        var keyed = items.Select(item => (Key: Fold(attribute is null ? item : AttributePath(item, attribute), caseSensitive), Item: item)).ToList();
        return keyed.OrderBy(x => x.Key, Comparer<object?>.Create((a, b) => JinjaValues.Compare(a, b))).Select(x => x.Item).ToList();
    }

    private static List<object?> DictSort(object? input, bool caseSensitive, string by, bool reverse)
    {
        if (input is not OrderedDictionary<string, object?> dict)
        {
            throw new JinjaError("dictsort expects a mapping");
        }

        var index = by switch
        {
            "key" => 0,
            "value" => 1,
            _ => throw new JinjaError("dictsort: you can only sort by either 'key' or 'value'"),
        };
        var pairs = dict.Select(kv => (object?)new List<object?> { kv.Key, kv.Value }).ToList();
        var sorted = pairs.OrderBy(p => Fold(((List<object?>)p!)[index], caseSensitive), Comparer<object?>.Create((a, b) => JinjaValues.Compare(a, b))).ToList();
        if (reverse)
        {
            sorted.Reverse();
        }

        return sorted;
    }

    /// <summary>Jinja's attribute getter: dotted paths, integer parts index into lists.</summary>
    private static object? AttributePath(object? item, object? attribute)
    {
        if (attribute is long or bool)
        {
            return JinjaMembers.GetItem(item, attribute);
        }

        foreach (var part in JinjaValues.ToStr(attribute).Split('.'))
        {
            item = long.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var i)
                ? JinjaMembers.GetItem(item, i)
                : JinjaMembers.GetItem(item, part);
        }

        return item;
    }

    private static List<object?> Attribute(List<object?> items, object? attribute) =>
        attribute is null or JinjaUndefined ? items : items.Select(item => AttributePath(item, attribute)).ToList();

    private static List<object?> Select(List<object?> items, string? attribute, List<object?> testArgs, bool keep)
    {
        var result = new List<object?>();
        foreach (var item in items)
        {
            var value = attribute is null ? item : AttributePath(item, attribute);
            var passed = testArgs.Count == 0
                ? JinjaValues.Truthy(value)
                : JinjaTests.Exists(JinjaValues.ToStr(testArgs[0]))
                    ? JinjaTests.Apply(JinjaValues.ToStr(testArgs[0]), value, testArgs.Skip(1).ToList())
                    : throw new JinjaError($"no test named '{JinjaValues.ToStr(testArgs[0])}'");
            if (passed == keep)
            {
                result.Add(item);
            }
        }

        return result;
    }

    private static List<object?> Map(object? input, List<object?> args, Dictionary<string, object?> kwargs)
    {
        var items = JinjaValues.Iterate(input);
        if (args.Count == 0 && kwargs.TryGetValue("attribute", out var attribute))
        {
            var hasDefault = kwargs.TryGetValue("default", out var fallback);
            return items.Select(item => AttributePath(item, attribute) is var v && v is JinjaUndefined && hasDefault ? fallback : v).ToList();
        }

        if (args.Count == 0)
        {
            throw new JinjaError("map needs a filter name or attribute=");
        }

        var filter = JinjaValues.ToStr(args[0]);
        if (!Exists(filter))
        {
            throw new JinjaError($"no filter named '{filter}'");
        }

        var rest = args.Skip(1).ToList();
        return items.Select(item => Apply(filter, item, rest, kwargs)).ToList();
    }

    private static object? ToInt(object? input, object? fallback)
    {
        switch (input)
        {
            case long:
                return input;
            case bool b:
                return b ? 1L : 0L;
            case double d:
                return double.IsFinite(d) && Math.Abs(d) < 9e18 ? (long)d : fallback;
            case string s:
                var text = s.Trim().Replace("_", "", StringComparison.Ordinal);
                if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l))
                {
                    return l;
                }

                return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var f) && double.IsFinite(f) && Math.Abs(f) < 9e18
                    ? (long)f
                    : fallback;
            default:
                return fallback;
        }
    }

    private static object? ToFloat(object? input, object? fallback) => input switch
    {
        double => input,
        long or bool => JinjaValues.AsDouble(input),
        string s when double.TryParse(s.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => d,
        _ => fallback,
    };

    private static string Indent(string text, object? width, bool first, bool blank)
    {
        var pad = width is string w ? w : new string(' ', (int)Math.Clamp(JinjaValues.AsLong(width), 0, 256));
        var lines = text.Split('\n');
        var sb = new StringBuilder();
        for (var i = 0; i < lines.Length; i++)
        {
            if (i > 0)
            {
                sb.Append('\n');
            }

            var indentThis = (i > 0 || first) && (blank || lines[i].Trim().Length > 0);
            sb.Append(indentThis ? pad : "").Append(lines[i]);
            JinjaOperators.CheckLength(sb.Length);
        }

        return sb.ToString();
    }
}
