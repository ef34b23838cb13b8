using System.Collections;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace WrinkleFree.Jinja.Runtime;

/// <summary>Jinja's default Undefined: falsy, prints as nothing, iterates as empty; attribute access stays undefined.</summary>
internal sealed class JinjaUndefined(string name)
{
    public string Name { get; } = name;
}

/// <summary>The object made by <c>namespace()</c>: the one value a loop body can assign attributes on.</summary>
internal sealed class JinjaNamespace
{
    public Dictionary<string, object?> Attributes { get; } = new(StringComparer.Ordinal);
}

/// <summary>A built-in function, a macro or a caller-supplied <see cref="JinjaFunction"/>.</summary>
internal sealed class JinjaCallable(string name, Func<List<object?>, Dictionary<string, object?>, object?> invoke)
{
    public string Name { get; } = name;

    public object? Invoke(List<object?> args, Dictionary<string, object?> kwargs) => invoke(args, kwargs);

    /// <summary>
    /// Wraps a caller's function: its result is converted like a variable, and a <see cref="JinjaException"/> it throws
    /// without a position becomes an evaluation error, so the renderer reports it at the call.
    /// </summary>
    public static JinjaCallable FromFunction(string name, JinjaFunction function) => new(name, (args, kwargs) =>
    {
        object? result;
        try
        {
            result = function(new JinjaArguments(args, kwargs));
        }
        catch (JinjaException e) when (!e.HasPosition)
        {
            throw new JinjaError(e.Detail);
        }

        return JinjaValues.FromClr(result);
    });
}

/// <summary>A method looked up on a value (<c>s.strip</c>, <c>d.items</c>), called later.</summary>
internal sealed record JinjaBoundMethod(object Target, string Name);

/// <summary>The <c>loop</c> variable inside a for loop.</summary>
internal sealed class JinjaLoop(List<object?> items)
{
    public int Index0 { get; set; }

    public object? Get(string name) => name switch
    {
        "index" => (long)Index0 + 1,
        "index0" => (long)Index0,
        "revindex" => (long)(items.Count - Index0),
        "revindex0" => (long)(items.Count - Index0 - 1),
        "first" => Index0 == 0,
        "last" => Index0 == items.Count - 1,
        "length" => (long)items.Count,
        "depth" => 1L,
        "depth0" => 0L,
        "previtem" => Index0 > 0 ? items[Index0 - 1] : new JinjaUndefined("loop.previtem"),
        "nextitem" => Index0 + 1 < items.Count ? items[Index0 + 1] : new JinjaUndefined("loop.nextitem"),
        "cycle" => new JinjaBoundMethod(this, "cycle"),
        _ => new JinjaUndefined("loop." + name),
    };
}

/// <summary>Python-flavoured semantics of template values: truthiness, str(), repr(), equality, ordering, conversion.</summary>
internal static class JinjaValues
{
    public static bool IsUndefined(object? value) => value is JinjaUndefined;

    public static bool IsInteger(object? value) => value is long or bool;

    public static bool IsNumber(object? value) => value is long or double or bool;

    public static long AsLong(object? value) => value switch
    {
        long l => l,
        bool b => b ? 1 : 0,
        _ => throw new JinjaError($"expected an integer, got {TypeName(value)}"),
    };

    public static double AsDouble(object? value) => value switch
    {
        double d => d,
        long l => l,
        bool b => b ? 1 : 0,
        _ => throw new JinjaError($"expected a number, got {TypeName(value)}"),
    };

    public static bool Truthy(object? value) => value switch
    {
        null or JinjaUndefined => false,
        bool b => b,
        long l => l != 0,
        double d => d != 0,
        string s => s.Length > 0,
        List<object?> list => list.Count > 0,
        OrderedDictionary<string, object?> dict => dict.Count > 0,
        _ => true,
    };

    public static string TypeName(object? value) => value switch
    {
        null => "NoneType",
        JinjaUndefined => "Undefined",
        bool => "bool",
        long => "int",
        double => "float",
        string => "str",
        List<object?> => "list",
        OrderedDictionary<string, object?> => "dict",
        JinjaNamespace => "Namespace",
        JinjaCallable or JinjaBoundMethod => "function",
        JinjaLoop => "LoopContext",
        _ => value.GetType().Name,
    };

    /// <summary>Python's str(): what <c>{{ value }}</c> prints.</summary>
    public static string ToStr(object? value) => value switch
    {
        string s => s,
        JinjaUndefined => "",
        null => "None",
        bool b => b ? "True" : "False",
        long l => l.ToString(CultureInfo.InvariantCulture),
        double d => FloatRepr(d),
        _ => Repr(value),
    };

    /// <summary>Python's repr(), used for strings inside printed lists and dicts.</summary>
    public static string Repr(object? value)
    {
        switch (value)
        {
            case string s:
                return StringRepr(s);
            case List<object?> list:
                {
                    var sb = new StringBuilder("[");
                    for (var i = 0; i < list.Count; i++)
                    {
                        sb.Append(i > 0 ? ", " : "").Append(Repr(list[i]));
                    }

                    return sb.Append(']').ToString();
                }

            case OrderedDictionary<string, object?> dict:
                {
                    var sb = new StringBuilder("{");
                    var first = true;
                    foreach (var (k, v) in dict)
                    {
                        sb.Append(first ? "" : ", ").Append(StringRepr(k)).Append(": ").Append(Repr(v));
                        first = false;
                    }

                    return sb.Append('}').ToString();
                }

            case JinjaNamespace ns:
                return "<Namespace " + string.Join(", ", ns.Attributes.Select(kv => kv.Key + "=" + Repr(kv.Value))) + ">";
            case JinjaCallable c:
                return $"<function {c.Name}>";
            case JinjaBoundMethod m:
                return $"<built-in method {m.Name}>";
            case JinjaLoop:
                return "<LoopContext>";
            default:
                return ToStr(value);
        }
    }

    private static string StringRepr(string s)
    {
        var quote = s.Contains('\'') && !s.Contains('"') ? '"' : '\'';
        var sb = new StringBuilder(s.Length + 2).Append(quote);
        foreach (var c in s)
        {
            switch (c)
            {
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    if (c == quote)
                    {
                        sb.Append('\\').Append(c);
                    }
                    else if (c < 0x20 || c == 0x7F)
                    {
                        sb.Append("\\x").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        sb.Append(c);
                    }

                    break;
            }
        }

        return sb.Append(quote).ToString();
    }

    /// <summary>Python's float repr: shortest round-trip digits, always a '.0' or exponent, 'e-05' style exponents.</summary>
    public static string FloatRepr(double d)
    {
        if (double.IsNaN(d))
        {
            return "nan";
        }

        if (double.IsInfinity(d))
        {
            return d > 0 ? "inf" : "-inf";
        }

        if (d == Math.Floor(d) && Math.Abs(d) < 1e16)
        {
            return (d == 0 && double.IsNegative(d) ? "-" : "") + Math.Abs(d).ToString("F0", CultureInfo.InvariantCulture) + ".0";
        }

        var r = d.ToString("R", CultureInfo.InvariantCulture);
        var e = r.IndexOf('E');
        if (e < 0)
        {
            return r;
        }

        var mantissa = r[..e];
        var exponent = int.Parse(r.AsSpan(e + 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        return mantissa + "e" + (exponent < 0 ? "-" : "+") + Math.Abs(exponent).ToString("00", CultureInfo.InvariantCulture);
    }

    public static bool ValueEquals(object? a, object? b)
    {
        if (IsNumber(a) && IsNumber(b))
        {
            return IsInteger(a) && IsInteger(b) ? AsLong(a) == AsLong(b) : AsDouble(a) == AsDouble(b);
        }

        switch (a)
        {
            case null:
                return b is null;
            case JinjaUndefined:
                return b is JinjaUndefined;
            case string s:
                return b is string t && string.Equals(s, t, StringComparison.Ordinal);
            case List<object?> x when b is List<object?> y:
                if (x.Count != y.Count)
                {
                    return false;
                }

                for (var i = 0; i < x.Count; i++)
                {
                    if (!ValueEquals(x[i], y[i]))
                    {
                        return false;
                    }
                }

                return true;
            case OrderedDictionary<string, object?> x when b is OrderedDictionary<string, object?> y:
                if (x.Count != y.Count)
                {
                    return false;
                }

                foreach (var (k, v) in x)
                {
                    if (!y.TryGetValue(k, out var w) || !ValueEquals(v, w))
                    {
                        return false;
                    }
                }

                return true;
            default:
                return ReferenceEquals(a, b) || (a is JinjaBoundMethod && a.Equals(b));
        }
    }

    /// <summary>Python ordering for numbers, strings and lists; anything else is a TypeError.</summary>
    public static int Compare(object? a, object? b, string op = "<")
    {
        if (IsNumber(a) && IsNumber(b))
        {
            return IsInteger(a) && IsInteger(b) ? AsLong(a).CompareTo(AsLong(b)) : AsDouble(a).CompareTo(AsDouble(b));
        }

        if (a is string s && b is string t)
        {
            return string.CompareOrdinal(s, t);
        }

        if (a is List<object?> x && b is List<object?> y)
        {
            for (var i = 0; i < Math.Min(x.Count, y.Count); i++)
            {
                if (!ValueEquals(x[i], y[i]))
                {
                    return Compare(x[i], y[i], op);
                }
            }

            return x.Count.CompareTo(y.Count);
        }

        throw new JinjaError($"'{op}' not supported between instances of '{TypeName(a)}' and '{TypeName(b)}'");
    }

    public static bool Contains(object? container, object? item) => container switch
    {
        string s => item is string t
            ? s.Contains(t, StringComparison.Ordinal)
            : throw new JinjaError($"'in <string>' requires string as left operand, not {TypeName(item)}"),
        List<object?> list => list.Exists(x => ValueEquals(x, item)),
        OrderedDictionary<string, object?> dict => KeyOf(item) is { } key && dict.ContainsKey(key),
        JinjaUndefined => false,
        _ => throw new JinjaError($"argument of type '{TypeName(container)}' is not iterable"),
    };

    /// <summary>Dictionary keys are kept as strings; numbers and booleans map to their printed form.</summary>
    public static string? KeyOf(object? key) => key switch
    {
        string s => s,
        long or bool or double => ToStr(key),
        null => "None",
        _ => null,
    };

    /// <summary>The items a for loop or filter walks: list items, dict keys, string characters.</summary>
    public static List<object?> Iterate(object? value) => value switch
    {
        List<object?> list => [.. list],
        OrderedDictionary<string, object?> dict => [.. dict.Keys],
        string s => Characters(s),
        JinjaUndefined => [],
        _ => throw new JinjaError($"'{TypeName(value)}' object is not iterable"),
    };

    public static List<object?> Characters(string s)
    {
        var list = new List<object?>(s.Length);
        foreach (var rune in s.EnumerateRunes())
        {
            list.Add(rune.ToString());
        }

        return list;
    }

    public static long Length(object? value) => value switch
    {
        string s => s.EnumerateRunes().Count(),
        List<object?> list => list.Count,
        OrderedDictionary<string, object?> dict => dict.Count,
        JinjaUndefined => 0,
        JinjaNamespace ns => ns.Attributes.Count,
        _ => throw new JinjaError($"object of type '{TypeName(value)}' has no len()"),
    };

    /// <summary>
    /// Converts caller-supplied .NET values (JSON elements, dictionaries, enumerables, functions) into template values;
    /// <paramref name="name"/> (the variable or dictionary key) names a <see cref="JinjaFunction"/> found there.
    /// </summary>
    public static object? FromClr(object? value, int depth = 0, string? name = null)
    {
        if (depth > 64)
        {
            throw new JinjaError("template variable is nested too deeply");
        }

        switch (value)
        {
            case null or string or bool or long or double or JinjaUndefined or JinjaNamespace or JinjaCallable:
                return value;
            case int or short or sbyte or byte or ushort or uint:
                return Convert.ToInt64(value, CultureInfo.InvariantCulture);
            case ulong u:
                return u <= long.MaxValue ? (long)u : (object)(double)u;
            case float or decimal:
                return Convert.ToDouble(value, CultureInfo.InvariantCulture);
            case char c:
                return c.ToString();
            case Enum e:
                return e.ToString();
            case DateTimeOffset or DateTime:
                return Convert.ToString(value, CultureInfo.InvariantCulture);
            case JinjaFunction function:
                return JinjaCallable.FromFunction(name ?? "function", function);
            case JsonElement element:
                return FromJson(element, depth);
            case JsonNode node:
                return FromJson(JsonSerializer.SerializeToElement(node), depth);
            case IReadOnlyDictionary<string, object?> map:
                {
                    var dict = new OrderedDictionary<string, object?>(StringComparer.Ordinal);
                    foreach (var (k, v) in map)
                    {
                        dict[k] = FromClr(v, depth + 1, k);
                    }

                    return dict;
                }

            case IDictionary map:
                {
                    var dict = new OrderedDictionary<string, object?>(StringComparer.Ordinal);
                    foreach (DictionaryEntry entry in map)
                    {
                        dict[KeyOf(FromClr(entry.Key, depth + 1)) ?? entry.Key.ToString() ?? ""] = FromClr(entry.Value, depth + 1);
                    }

                    return dict;
                }

            case IEnumerable items:
                {
                    var list = new List<object?>();
                    foreach (var item in items)
                    {
                        list.Add(FromClr(item, depth + 1));
                    }

                    return list;
                }

            default:
                return value.ToString();
        }
    }

    private static object? FromJson(JsonElement element, int depth)
    {
        if (depth > 64)
        {
            throw new JinjaError("template variable is nested too deeply");
        }

        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                var dict = new OrderedDictionary<string, object?>(StringComparer.Ordinal);
                foreach (var property in element.EnumerateObject())
                {
                    dict[property.Name] = FromJson(property.Value, depth + 1);
                }

                return dict;
            case JsonValueKind.Array:
                var list = new List<object?>();
                foreach (var item in element.EnumerateArray())
                {
                    list.Add(FromJson(item, depth + 1));
                }

                return list;
            case JsonValueKind.String:
                return element.GetString();
            case JsonValueKind.Number:
                return element.TryGetInt64(out var l) ? l : (object)element.GetDouble();
            case JsonValueKind.True:
                return true;
            case JsonValueKind.False:
                return false;
            default:
                return null;
        }
    }
}
