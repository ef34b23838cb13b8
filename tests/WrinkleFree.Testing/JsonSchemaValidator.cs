using System.Text.Json;

namespace WrinkleFree.Testing;

/// <summary>
/// Checks a JSON value against the schema subset structured outputs enforce (type, properties, required,
/// additionalProperties, items, minItems, maxItems, enum, const, anyOf, $ref, minLength, maxLength, date/uuid formats),
/// written independently of the grammar builder so tests do not grade the generator with its own code.
/// </summary>
public static class JsonSchemaValidator
{
    /// <summary>The first violation as "path: problem", or null when <paramref name="value"/> is valid.</summary>
    public static string? Validate(JsonElement schema, JsonElement value) => Check(schema, schema, value, "$");

    private static string? Check(JsonElement root, JsonElement s, JsonElement v, string at)
    {
        if (s.ValueKind == JsonValueKind.True)
        {
            return null;
        }

        if (s.TryGetProperty("$ref", out var r))
        {
            var target = r.GetString()!;
            var resolved = target == "#" ? root : root.GetProperty(target.Split('/')[1]).GetProperty(target.Split('/')[2]);
            return Check(root, resolved, v, at);
        }

        if (s.TryGetProperty("const", out var c) && !JsonElement.DeepEquals(c, v))
        {
            return $"{at}: {v.GetRawText()} is not the const {c.GetRawText()}";
        }

        if (s.TryGetProperty("enum", out var e) && !e.EnumerateArray().Any(x => JsonElement.DeepEquals(x, v)))
        {
            return $"{at}: {v.GetRawText()} is not one of {e.GetRawText()}";
        }

        if (s.TryGetProperty("anyOf", out var any))
        {
            return any.EnumerateArray().Any(a => Check(root, a, v, at) is null) ? null : $"{at}: matches no anyOf branch";
        }

        if (s.TryGetProperty("type", out var type))
        {
            var types = type.ValueKind == JsonValueKind.Array ? type.EnumerateArray().Select(t => t.GetString()!).ToArray() : [type.GetString()!];
            if (!types.Any(t => IsType(v, t)))
            {
                return $"{at}: {v.ValueKind} is not {string.Join(" or ", types)}";
            }
        }

        return v.ValueKind switch
        {
            JsonValueKind.Object => CheckObject(root, s, v, at),
            JsonValueKind.Array => CheckArray(root, s, v, at),
            JsonValueKind.String => CheckString(s, v.GetString()!, at),
            _ => null,
        };
    }

    private static bool IsType(JsonElement v, string type) => type switch
    {
        "object" => v.ValueKind == JsonValueKind.Object,
        "array" => v.ValueKind == JsonValueKind.Array,
        "string" => v.ValueKind == JsonValueKind.String,
        "number" => v.ValueKind == JsonValueKind.Number,
        "integer" => v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out var d) && d == Math.Floor(d) && !v.GetRawText().Contains('.', StringComparison.Ordinal),
        "boolean" => v.ValueKind is JsonValueKind.True or JsonValueKind.False,
        "null" => v.ValueKind == JsonValueKind.Null,
        _ => false,
    };

    private static string? CheckObject(JsonElement root, JsonElement s, JsonElement v, string at)
    {
        var props = s.TryGetProperty("properties", out var p) ? p : default;
        if (s.TryGetProperty("required", out var req))
        {
            foreach (var name in req.EnumerateArray())
            {
                if (!v.TryGetProperty(name.GetString()!, out _))
                {
                    return $"{at}: required property '{name.GetString()}' is missing";
                }
            }
        }

        var seen = new HashSet<string>();
        foreach (var member in v.EnumerateObject())
        {
            if (!seen.Add(member.Name))
            {
                return $"{at}: property '{member.Name}' appears twice";
            }

            if (props.ValueKind == JsonValueKind.Object && props.TryGetProperty(member.Name, out var ps))
            {
                if (Check(root, ps, member.Value, $"{at}.{member.Name}") is { } error)
                {
                    return error;
                }
            }
            else if (s.TryGetProperty("additionalProperties", out var extra))
            {
                if (extra.ValueKind == JsonValueKind.False)
                {
                    return $"{at}: additional property '{member.Name}' is not allowed";
                }

                if (extra.ValueKind == JsonValueKind.Object && Check(root, extra, member.Value, $"{at}.{member.Name}") is { } error)
                {
                    return error;
                }
            }
        }

        return null;
    }

    private static string? CheckArray(JsonElement root, JsonElement s, JsonElement v, string at)
    {
        var n = v.GetArrayLength();
        if (s.TryGetProperty("minItems", out var min) && n < min.GetInt32())
        {
            return $"{at}: {n} items, fewer than minItems {min.GetInt32()}";
        }

        if (s.TryGetProperty("maxItems", out var max) && n > max.GetInt32())
        {
            return $"{at}: {n} items, more than maxItems {max.GetInt32()}";
        }

        if (s.TryGetProperty("items", out var items))
        {
            var i = 0;
            foreach (var item in v.EnumerateArray())
            {
                if (Check(root, items, item, $"{at}[{i++}]") is { } error)
                {
                    return error;
                }
            }
        }

        return null;
    }

    private static string? CheckString(JsonElement s, string v, string at)
    {
        // Lengths count code points, as JSON schema defines them.
        var length = v.EnumerateRunes().Count();
        if (s.TryGetProperty("minLength", out var min) && length < min.GetInt32())
        {
            return $"{at}: length {length} is below minLength {min.GetInt32()}";
        }

        if (s.TryGetProperty("maxLength", out var max) && length > max.GetInt32())
        {
            return $"{at}: length {length} is above maxLength {max.GetInt32()}";
        }

        if (s.TryGetProperty("format", out var f))
        {
            var ok = f.GetString() switch
            {
                // The grammar enforces the shape and field ranges, not month lengths (2023-02-31 passes).
                "date" => System.Text.RegularExpressions.Regex.IsMatch(v, @"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$"),
                "uuid" => Guid.TryParseExact(v, "D", out _),
                _ => true,
            };
            if (!ok)
            {
                return $"{at}: '{v}' is not a valid {f.GetString()}";
            }
        }

        return null;
    }
}
