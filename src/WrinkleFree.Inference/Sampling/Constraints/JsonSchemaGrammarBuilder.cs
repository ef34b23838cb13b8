using System.Globalization;
using System.Text;
using System.Text.Json;

namespace WrinkleFree.Inference.Sampling.Constraints;

/// <summary>
/// Writes the GBNF for a JSON schema: one rule per object, array and $ref target, over shared JSON primitives.
/// Properties come out in declaration order; whitespace is bounded (one space, or a newline and up to 20 indent
/// characters), as are number digits, so every document can finish in a bounded number of characters once its strings do.
/// </summary>
internal sealed partial class JsonSchemaGrammarBuilder(JsonElement schema, bool strict)
{
    /// <summary>Any JSON object with no trailing whitespace, so end-of-generation is forced right after the closing brace.</summary>
    public static readonly string AnyObjectGbnf = "root ::= object\n" + Primitives;

    private const string Primitives = """
        value ::= object | array | string | number | "true" | "false" | "null"
        object ::= "{" ws ( string ws ":" ws value ws ( "," ws string ws ":" ws value ws )* )? "}"
        array ::= "[" ws ( value ws ( "," ws value ws )* )? "]"
        string ::= "\"" char* "\""
        char ::= [^"\\\x7F\x00-\x1F] | "\\" ( ["\\/bfnrt] | "u" [0-9a-fA-F]{4} )
        number ::= integer ( "." [0-9]{1,16} )? ( [eE] [-+]? [0-9]{1,3} )?
        integer ::= "-"? ( "0" | [1-9] [0-9]{0,15} )
        boolean ::= "true" | "false"
        null ::= "null"
        ws ::= | " " | "\n" [ \t]{0,20}
        date ::= [0-9]{4} "-" ( "0" [1-9] | "1" [0-2] ) "-" ( "0" [1-9] | [12] [0-9] | "3" [01] )
        time ::= ( [01] [0-9] | "2" [0-3] ) ":" [0-5] [0-9] ":" [0-5] [0-9] ( "." [0-9]{1,6} )? ( "Z" | [+-] ( [01] [0-9] | "2" [0-3] ) ":" [0-5] [0-9] )
        uuid ::= [0-9a-fA-F]{8} "-" [0-9a-fA-F]{4} "-" [0-9a-fA-F]{4} "-" [0-9a-fA-F]{4} "-" [0-9a-fA-F]{12}

        """;

    // Keywords that describe but do not constrain; everything else not handled below is refused.
    private static readonly HashSet<string> Annotations =
    [
        "title", "description", "$schema", "$id", "default", "examples", "$comment", "deprecated", "readOnly", "writeOnly",
    ];

    private static readonly HashSet<string> Handled =
    [
        "type", "properties", "required", "additionalProperties", "items", "minItems", "maxItems", "enum", "const", "anyOf",
        "$ref", "$defs", "definitions", "minLength", "maxLength", "format",
    ];

    // Non-ASCII stays literal (a model writes "é", not "\u00e9"); the output is JSON text, not HTML.
    private static readonly JsonSerializerOptions CompactJson = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly StringBuilder _rules = new();
    private readonly Dictionary<string, string> _refRules = new(StringComparer.Ordinal);
    private int _next;

    public string Build()
    {
        var body = Value(schema, "#");
        return $"root ::= {body}\n{_rules}{Primitives}";
    }

    private string Value(JsonElement s, string path)
    {
        if (s.ValueKind == JsonValueKind.True)
        {
            return "value";
        }

        if (s.ValueKind != JsonValueKind.Object)
        {
            throw new JsonSchemaException(path, "", s.ValueKind == JsonValueKind.False
                ? "the schema 'false' accepts no value"
                : $"a schema must be an object or true, not {s.ValueKind.ToString().ToLowerInvariant()}");
        }

        foreach (var p in s.EnumerateObject())
        {
            if (!Handled.Contains(p.Name) && !Annotations.Contains(p.Name))
            {
                throw new JsonSchemaException($"{path}/{p.Name}", p.Name, $"the JSON-schema keyword '{p.Name}' is not supported");
            }
        }

        if (s.TryGetProperty("$ref", out var reference))
        {
            return Ref(reference, path);
        }

        if (s.TryGetProperty("const", out var constant))
        {
            return Literal(constant);
        }

        if (s.TryGetProperty("enum", out var values))
        {
            if (values.ValueKind != JsonValueKind.Array || values.GetArrayLength() == 0)
            {
                throw new JsonSchemaException($"{path}/enum", "enum", "enum must be a non-empty array");
            }

            return "(" + string.Join(" | ", values.EnumerateArray().Select(Literal)) + ")";
        }

        if (s.TryGetProperty("anyOf", out var anyOf))
        {
            if (anyOf.ValueKind != JsonValueKind.Array || anyOf.GetArrayLength() == 0)
            {
                throw new JsonSchemaException($"{path}/anyOf", "anyOf", "anyOf must be a non-empty array of schemas");
            }

            return "(" + string.Join(" | ", anyOf.EnumerateArray().Select((a, i) => Value(a, $"{path}/anyOf/{i}"))) + ")";
        }

        if (!s.TryGetProperty("type", out var type))
        {
            if (s.TryGetProperty("properties", out _) || s.TryGetProperty("additionalProperties", out _) || s.TryGetProperty("required", out _))
            {
                return Object(s, path);
            }

            return s.TryGetProperty("items", out _) ? Array(s, path) : "value";
        }

        if (type.ValueKind == JsonValueKind.String)
        {
            return Typed(s, type.GetString()!, path);
        }

        if (type.ValueKind != JsonValueKind.Array || type.GetArrayLength() == 0 || type.EnumerateArray().Any(t => t.ValueKind != JsonValueKind.String))
        {
            throw new JsonSchemaException($"{path}/type", "type", "type must be a type name or a non-empty array of type names");
        }

        return "(" + string.Join(" | ", type.EnumerateArray().Select(t => Typed(s, t.GetString()!, path))) + ")";
    }

    private string Typed(JsonElement s, string type, string path) => type switch
    {
        "object" => Object(s, path),
        "array" => Array(s, path),
        "string" => String(s, path),
        "number" => "number",
        "integer" => "integer",
        "boolean" => "boolean",
        "null" => "null",
        _ => throw new JsonSchemaException($"{path}/type", "type", $"unknown type '{type}' (expected object, array, string, number, integer, boolean or null)"),
    };

    private string Ref(JsonElement reference, string path)
    {
        var target = reference.ValueKind == JsonValueKind.String ? reference.GetString()! : "";
        if (_refRules.TryGetValue(target, out var existing))
        {
            return existing;
        }

        JsonElement resolved;
        if (target == "#")
        {
            resolved = schema;
        }
        else
        {
            var parts = target.Split('/');
            if (parts.Length != 3 || parts[0] != "#" || parts[1] is not ("$defs" or "definitions")
                || !schema.TryGetProperty(parts[1], out var defs) || defs.ValueKind != JsonValueKind.Object
                || !defs.TryGetProperty(Unescape(parts[2]), out resolved))
            {
                throw new JsonSchemaException($"{path}/$ref", "$ref", $"$ref '{target}' must point to '#', '#/$defs/NAME' or '#/definitions/NAME' of this schema");
            }
        }

        // Named before its body is written, so a recursive definition refers to itself.
        var name = NewRule("ref");
        _refRules[target] = name;
        Rule(name, Value(resolved, target));
        return name;
    }

    private static string Unescape(string pointer) => pointer.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal);

    private string String(JsonElement s, string path)
    {
        var min = Count(s, "minLength", path) ?? 0;
        var max = Count(s, "maxLength", path);
        if (s.TryGetProperty("format", out var format))
        {
            var f = format.ValueKind == JsonValueKind.String ? format.GetString() : null;
            return f switch
            {
                "date" or "time" or "uuid" => $"\"\\\"\" {f} \"\\\"\"",
                "date-time" => "\"\\\"\" date \"T\" time \"\\\"\"",
                _ => throw new JsonSchemaException($"{path}/format", "format", $"string format '{f}' is not supported (date, time, date-time and uuid are)"),
            };
        }

        if (max < min)
        {
            throw new JsonSchemaException($"{path}/maxLength", "maxLength", $"maxLength {max} is below minLength {min}");
        }

        return (min, max) switch
        {
            (0, null) => "string",
            (_, null) => $"\"\\\"\" char{{{min},}} \"\\\"\"",
            _ => $"\"\\\"\" char{{{min},{max}}} \"\\\"\"",
        };
    }

    private static int? Count(JsonElement s, string keyword, string path)
    {
        if (!s.TryGetProperty(keyword, out var v))
        {
            return null;
        }

        if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt32(out var n) || n < 0)
        {
            throw new JsonSchemaException($"{path}/{keyword}", keyword, $"{keyword} must be a non-negative integer");
        }

        return n <= GbnfParser.MaxRepetition
            ? n
            : throw new JsonSchemaException($"{path}/{keyword}", keyword, $"{keyword} {n} is above the supported {GbnfParser.MaxRepetition}");
    }

    private string NewRule(string kind) => $"{kind}-{++_next}";

    private void Rule(string name, string body) => _rules.Append(name).Append(" ::= ").Append(body).Append('\n');

    /// <summary>A GBNF string literal for the compact JSON text of <paramref name="value"/>.</summary>
    private static string Literal(JsonElement value) => GbnfLiteral(JsonSerializer.Serialize(value, CompactJson));

    /// <summary>A GBNF literal for a property name: its JSON string form, quotes included.</summary>
    private static string NameLiteral(string name) => GbnfLiteral(JsonSerializer.Serialize(name, CompactJson));

    private static string GbnfLiteral(string json)
    {
        var sb = new StringBuilder(json.Length + 2).Append('"');
        foreach (var c in json)
        {
            switch (c)
            {
                case '"':
                    sb.Append("\\\"");
                    break;
                case '\\':
                    sb.Append("\\\\");
                    break;
                case < ' ':
                    sb.Append("\\x").Append(((int)c).ToString("X2", CultureInfo.InvariantCulture));
                    break;
                default:
                    sb.Append(c);
                    break;
            }
        }

        return sb.Append('"').ToString();
    }
}
