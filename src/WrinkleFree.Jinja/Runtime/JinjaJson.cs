using System.Globalization;
using System.Text;

namespace WrinkleFree.Jinja.Runtime;

/// <summary>
/// The <c>tojson</c> filter as transformers defines it: Python's json.dumps with ensure_ascii=False, so separators are
/// ", " and ": " (or "," and newlines with an indent), floats print like Python, and nothing is HTML-escaped.
/// </summary>
internal static class JinjaJson
{
    public static string Serialize(object? value, int? indent, bool sortKeys, bool ensureAscii)
    {
        var sb = new StringBuilder();
        Write(sb, value, indent, sortKeys, ensureAscii, 0);
        return sb.ToString();
    }

    private static void Write(StringBuilder sb, object? value, int? indent, bool sortKeys, bool ensureAscii, int level)
    {
        if (level > 64)
        {
            throw new JinjaError("tojson: value is nested too deeply");
        }

        JinjaOperators.CheckLength(sb.Length);
        switch (value)
        {
            case null or JinjaUndefined:
                sb.Append("null");
                break;
            case bool b:
                sb.Append(b ? "true" : "false");
                break;
            case long l:
                sb.Append(l.ToString(CultureInfo.InvariantCulture));
                break;
            case double d:
                sb.Append(double.IsNaN(d) ? "NaN" : double.IsInfinity(d) ? (d > 0 ? "Infinity" : "-Infinity") : JinjaValues.FloatRepr(d));
                break;
            case string s:
                WriteString(sb, s, ensureAscii);
                break;
            case List<object?> list:
                if (list.Count == 0)
                {
                    sb.Append("[]");
                    break;
                }

                sb.Append('[');
                for (var i = 0; i < list.Count; i++)
                {
                    Separator(sb, i, indent, level + 1);
                    Write(sb, list[i], indent, sortKeys, ensureAscii, level + 1);
                }

                Close(sb, indent, level).Append(']');
                break;
            case OrderedDictionary<string, object?> dict:
                if (dict.Count == 0)
                {
                    sb.Append("{}");
                    break;
                }

                sb.Append('{');
                var entries = sortKeys ? dict.OrderBy(kv => kv.Key, StringComparer.Ordinal).ToList() : dict.ToList();
                for (var i = 0; i < entries.Count; i++)
                {
                    Separator(sb, i, indent, level + 1);
                    WriteString(sb, entries[i].Key, ensureAscii);
                    sb.Append(": ");
                    Write(sb, entries[i].Value, indent, sortKeys, ensureAscii, level + 1);
                }

                Close(sb, indent, level).Append('}');
                break;
            case JinjaNamespace ns:
                var copy = new OrderedDictionary<string, object?>(StringComparer.Ordinal);
                foreach (var (k, v) in ns.Attributes)
                {
                    copy[k] = v;
                }

                Write(sb, copy, indent, sortKeys, ensureAscii, level);
                break;
            default:
                throw new JinjaError($"Object of type {JinjaValues.TypeName(value)} is not JSON serializable");
        }
    }

    private static void Separator(StringBuilder sb, int index, int? indent, int level)
    {
        if (indent is { } n)
        {
            sb.Append(index > 0 ? ",\n" : "\n").Append(' ', n * level);
        }
        else if (index > 0)
        {
            sb.Append(", ");
        }
    }

    private static StringBuilder Close(StringBuilder sb, int? indent, int level) =>
        indent is { } n ? sb.Append('\n').Append(' ', n * level) : sb;

    private static void WriteString(StringBuilder sb, string s, bool ensureAscii)
    {
        sb.Append('"');
        foreach (var c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                default:
                    if (c < 0x20 || (ensureAscii && c > 0x7E))
                    {
                        sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        sb.Append(c);
                    }

                    break;
            }
        }

        sb.Append('"');
    }
}
