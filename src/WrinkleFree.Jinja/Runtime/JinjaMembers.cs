using System.Text;

namespace WrinkleFree.Jinja.Runtime;

/// <summary>Attribute and item access, slicing, and the Python methods templates call on strings, dicts and lists.</summary>
internal static class JinjaMembers
{
    private static readonly HashSet<string> StringMethods =
    [
        "strip", "lstrip", "rstrip", "split", "rsplit", "splitlines", "startswith", "endswith", "upper", "lower", "replace",
        "title", "capitalize", "find", "rfind", "count", "join", "isdigit", "isalpha", "isalnum", "isspace", "isupper",
        "islower", "format",
    ];

    private static readonly HashSet<string> DictMethods = ["get", "items", "keys", "values"];

    private static readonly HashSet<string> ListMethods = ["index", "count"];

    /// <summary><c>obj.name</c>: methods win over keys, as Jinja tries getattr before getitem.</summary>
    public static object? GetAttr(object? target, string name) => target switch
    {
        OrderedDictionary<string, object?> dict => DictMethods.Contains(name)
            ? new JinjaBoundMethod(dict, name)
            : dict.TryGetValue(name, out var value) ? value : new JinjaUndefined(name),
        JinjaNamespace ns => ns.Attributes.TryGetValue(name, out var value) ? value : new JinjaUndefined(name),
        JinjaLoop loop => loop.Get(name),
        string s when StringMethods.Contains(name) => new JinjaBoundMethod(s, name),
        List<object?> list when ListMethods.Contains(name) => new JinjaBoundMethod(list, name),
        _ => new JinjaUndefined(name),
    };

    /// <summary><c>obj[key]</c>: keys first, then attributes; a missing key or index is undefined, not an error.</summary>
    public static object? GetItem(object? target, object? key)
    {
        switch (target)
        {
            case OrderedDictionary<string, object?> dict:
                return JinjaValues.KeyOf(key) is { } k && dict.TryGetValue(k, out var value) ? value : new JinjaUndefined(JinjaValues.ToStr(key));
            case List<object?> list when JinjaValues.IsInteger(key):
                return At(list, JinjaValues.AsLong(key), list.Count) is { } i ? list[i] : new JinjaUndefined(JinjaValues.ToStr(key));
            case string s when JinjaValues.IsInteger(key):
                var chars = JinjaValues.Characters(s);
                return At(chars, JinjaValues.AsLong(key), chars.Count) is { } j ? chars[j] : new JinjaUndefined(JinjaValues.ToStr(key));
            default:
                return key is string name ? GetAttr(target, name) : new JinjaUndefined(JinjaValues.ToStr(key));
        }
    }

    private static int? At(List<object?> _, long index, int count)
    {
        if (index < 0)
        {
            index += count;
        }

        return index >= 0 && index < count ? (int)index : null;
    }

    public static object? Slice(object? target, object? start, object? stop, object? step)
    {
        List<object?> items;
        switch (target)
        {
            case List<object?> list:
                items = list;
                break;
            case string s:
                items = JinjaValues.Characters(s);
                break;
            case JinjaUndefined:
                return target;
            default:
                throw new JinjaError($"'{JinjaValues.TypeName(target)}' object is not subscriptable");
        }

        var result = new List<object?>();
        foreach (var i in SliceIndices(items.Count, Bound(start), Bound(stop), Bound(step)))
        {
            result.Add(items[i]);
        }

        if (target is string)
        {
            var sb = new StringBuilder();
            foreach (var c in result)
            {
                sb.Append((string)c!);
            }

            return sb.ToString();
        }

        return result;
    }

    private static long? Bound(object? value) => value is null or JinjaUndefined ? null : JinjaValues.AsLong(value);

    private static IEnumerable<int> SliceIndices(int length, long? start, long? stop, long? step)
    {
        var s = step ?? 1;
        if (s == 0)
        {
            throw new JinjaError("slice step cannot be zero");
        }

        if (s > 0)
        {
            var from = Clamp(start ?? 0, length, 0, length);
            var to = Clamp(stop ?? length, length, 0, length);
            for (var i = from; i < to; i += s)
            {
                yield return (int)i;
            }
        }
        else
        {
            var from = start is null ? length - 1 : Clamp(start.Value, length, -1, length - 1);
            var to = stop is null ? -1 : Clamp(stop.Value, length, -1, length - 1);
            for (var i = from; i > to; i += s)
            {
                yield return (int)i;
            }
        }
    }

    private static long Clamp(long index, int length, long low, long high)
    {
        if (index < 0)
        {
            index += length;
        }

        return Math.Clamp(index, low, high);
    }

    public static object? CallMethod(JinjaBoundMethod method, List<object?> args, Dictionary<string, object?> kwargs)
    {
        object? Arg(int i, string name, object? fallback = null) =>
            i >= 0 && i < args.Count ? args[i] : kwargs.TryGetValue(name, out var v) ? v : fallback;

        switch (method.Target)
        {
            case string s:
                return StringMethod(s, method.Name, Arg);
            case OrderedDictionary<string, object?> dict:
                switch (method.Name)
                {
                    case "get":
                        return JinjaValues.KeyOf(Arg(0, "key")) is { } key && dict.TryGetValue(key, out var value) ? value : Arg(1, "default");
                    case "items":
                        return dict.Select(kv => (object?)new List<object?> { kv.Key, kv.Value }).ToList();
                    case "keys":
                        return dict.Keys.Select(k => (object?)k).ToList();
                    case "values":
                        return dict.Values.ToList();
                }

                break;
            case List<object?> list:
                switch (method.Name)
                {
                    case "count":
                        return (long)list.Count(x => JinjaValues.ValueEquals(x, Arg(0, "value")));
                    case "index":
                        var found = list.FindIndex(x => JinjaValues.ValueEquals(x, Arg(0, "value")));
                        return found >= 0 ? (long)found : throw new JinjaError("value is not in list");
                }

                break;
            case JinjaLoop loop when method.Name == "cycle":
                return args.Count == 0 ? throw new JinjaError("no items for cycling given") : args[loop.Index0 % args.Count];
        }

        throw new JinjaError($"'{JinjaValues.TypeName(method.Target)}' object has no method '{method.Name}'");
    }

    private static object? StringMethod(string s, string name, Func<int, string, object?, object?> arg)
    {
        string Str(int i, string n) => arg(i, n, null) is string v ? v : throw new JinjaError($"{name}() argument must be a string");
        string? Chars(int i, string n) => arg(i, n, null) switch
        {
            null or JinjaUndefined => null,
            string v => v,
            var v => throw new JinjaError($"{name}() argument must be a string or None, not {JinjaValues.TypeName(v)}"),
        };

        switch (name)
        {
            case "strip":
                return Chars(0, "chars") is { } both ? s.Trim(both.ToCharArray()) : s.Trim();
            case "lstrip":
                return Chars(0, "chars") is { } left ? s.TrimStart(left.ToCharArray()) : s.TrimStart();
            case "rstrip":
                return Chars(0, "chars") is { } right ? s.TrimEnd(right.ToCharArray()) : s.TrimEnd();
            case "split":
            case "rsplit":
                return Split(s, Chars(0, "sep"), OptionalLong(arg(1, "maxsplit", null)), name == "rsplit");
            case "splitlines":
                {
                    var lines = s.Split('\n').Select(l => (object?)l.TrimEnd('\r')).ToList();
                    if (s.EndsWith('\n'))
                    {
                        lines.RemoveAt(lines.Count - 1);
                    }

                    return lines;
                }
            case "startswith":
            case "endswith":
                {
                    var candidates = arg(0, "prefix", null) switch
                    {
                        string p => [p],
                        List<object?> l => l.Select(x => x as string ?? throw new JinjaError($"{name}() tuple items must be strings")).ToList(),
                        _ => throw new JinjaError($"{name}() argument must be a string or tuple"),
                    };
                    return name == "startswith"
                        ? candidates.Exists(p => s.StartsWith(p, StringComparison.Ordinal))
                        : candidates.Exists(p => s.EndsWith(p, StringComparison.Ordinal));
                }

            case "upper":
                return s.ToUpperInvariant();
            case "lower":
                return s.ToLowerInvariant();
            case "replace":
                return Replace(s, Str(0, "old"), Str(1, "new"), OptionalLong(arg(2, "count", null)));
            case "title":
                return Title(s);
            case "capitalize":
                return s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..].ToLowerInvariant();
            case "find":
                return (long)s.IndexOf(Str(0, "sub"), StringComparison.Ordinal);
            case "rfind":
                return (long)s.LastIndexOf(Str(0, "sub"), StringComparison.Ordinal);
            case "count":
                {
                    var sub = Str(0, "sub");
                    if (sub.Length == 0)
                    {
                        return (long)s.Length + 1;
                    }

                    long n = 0;
                    for (var i = s.IndexOf(sub, StringComparison.Ordinal); i >= 0; i = s.IndexOf(sub, i + sub.Length, StringComparison.Ordinal))
                    {
                        n++;
                    }

                    return n;
                }

            case "join":
                {
                    var parts = JinjaValues.Iterate(arg(0, "iterable", null));
                    var joined = string.Join(s, parts.Select(p => p as string ?? throw new JinjaError("join() expects strings")));
                    JinjaOperators.CheckLength(joined.Length);
                    return joined;
                }

            case "isdigit":
                return s.Length > 0 && s.All(char.IsDigit);
            case "isalpha":
                return s.Length > 0 && s.All(char.IsLetter);
            case "isalnum":
                return s.Length > 0 && s.All(char.IsLetterOrDigit);
            case "isspace":
                return s.Length > 0 && s.All(char.IsWhiteSpace);
            case "isupper":
                return s.Any(char.IsLetter) && !s.Any(char.IsLower);
            case "islower":
                return s.Any(char.IsLetter) && !s.Any(char.IsUpper);
            default:
                throw new JinjaError($"str.{name}() is not supported");
        }
    }

    public static string Title(string s)
    {
        var sb = new StringBuilder(s.Length);
        var previousCased = false;
        foreach (var c in s)
        {
            sb.Append(previousCased ? char.ToLowerInvariant(c) : char.ToUpperInvariant(c));
            previousCased = char.IsLetter(c);
        }

        return sb.ToString();
    }

    public static string Replace(string s, string old, string replacement, long count)
    {
        if (count < 0)
        {
            var all = old.Length == 0 ? InsertEverywhere(s, replacement) : s.Replace(old, replacement, StringComparison.Ordinal);
            JinjaOperators.CheckLength(all.Length);
            return all;
        }

        var sb = new StringBuilder();
        var pos = 0;
        for (var n = 0; n < count && old.Length > 0; n++)
        {
            var i = s.IndexOf(old, pos, StringComparison.Ordinal);
            if (i < 0)
            {
                break;
            }

            sb.Append(s, pos, i - pos).Append(replacement);
            JinjaOperators.CheckLength(sb.Length);
            pos = i + old.Length;
        }

        return sb.Append(s, pos, s.Length - pos).ToString();
    }

    private static string InsertEverywhere(string s, string insert)
    {
        JinjaOperators.CheckLength((s.Length + 1L) * insert.Length + s.Length);
        var sb = new StringBuilder(insert);
        foreach (var c in s)
        {
            sb.Append(c).Append(insert);
        }

        return sb.ToString();
    }

    private static List<object?> Split(string s, string? separator, long maxSplit, bool fromRight)
    {
        List<string> parts;
        if (separator is null)
        {
            parts = [.. s.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)];
            if (maxSplit >= 0 && parts.Count > maxSplit + 1)
            {
                // Python keeps the unsplit remainder verbatim; rejoin with the original spacing approximated by one space.
                var keep = (int)maxSplit;
                parts = fromRight
                    ? [string.Join(' ', parts.Take(parts.Count - keep)), .. parts.Skip(parts.Count - keep)]
                    : [.. parts.Take(keep), string.Join(' ', parts.Skip(keep))];
            }
        }
        else
        {
            if (separator.Length == 0)
            {
                throw new JinjaError("empty separator");
            }

            parts = [.. s.Split(separator, StringSplitOptions.None)];
            if (maxSplit >= 0 && parts.Count > maxSplit + 1)
            {
                var keep = (int)maxSplit;
                parts = fromRight
                    ? [string.Join(separator, parts.Take(parts.Count - keep)), .. parts.Skip(parts.Count - keep)]
                    : [.. parts.Take(keep), string.Join(separator, parts.Skip(keep))];
            }
        }

        return parts.Select(p => (object?)p).ToList();
    }

    private static long OptionalLong(object? value) => value is null or JinjaUndefined ? -1 : JinjaValues.AsLong(value);
}
