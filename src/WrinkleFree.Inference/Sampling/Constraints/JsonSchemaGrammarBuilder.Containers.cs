using System.Text.Json;

namespace WrinkleFree.Inference.Sampling.Constraints;

internal sealed partial class JsonSchemaGrammarBuilder
{
    /// <summary>
    /// Properties in declaration order, each required one always present and each optional one present or not, with
    /// commas right: rule t{i} continues after something was written (the next member needs a comma), f{i} before anything was.
    /// </summary>
    private string Object(JsonElement s, string path)
    {
        var properties = new List<(string Name, JsonElement Schema)>();
        if (s.TryGetProperty("properties", out var props))
        {
            if (props.ValueKind != JsonValueKind.Object)
            {
                throw new JsonSchemaException($"{path}/properties", "properties", "properties must be an object");
            }

            properties.AddRange(props.EnumerateObject().Select(p => (p.Name, p.Value)));
        }

        var required = new HashSet<string>(StringComparer.Ordinal);
        if (s.TryGetProperty("required", out var req))
        {
            if (req.ValueKind != JsonValueKind.Array || req.EnumerateArray().Any(r => r.ValueKind != JsonValueKind.String))
            {
                throw new JsonSchemaException($"{path}/required", "required", "required must be an array of property names");
            }

            foreach (var r in req.EnumerateArray())
            {
                var name = r.GetString()!;
                if (!properties.Exists(p => p.Name == name))
                {
                    throw new JsonSchemaException($"{path}/required", "required", $"required property '{name}' is not declared in properties");
                }

                required.Add(name);
            }
        }

        string? extra = strict ? null : "value";
        if (s.TryGetProperty("additionalProperties", out var additional))
        {
            extra = additional.ValueKind switch
            {
                JsonValueKind.False => null,
                JsonValueKind.True => "value",
                _ => Value(additional, $"{path}/additionalProperties"),
            };
        }

        var rule = NewRule("object");
        var n = properties.Count;
        var extraMember = extra is null ? null : $"string ws \":\" ws {extra} ws";
        Rule($"{rule}-t{n}", extraMember is null ? "\"\"" : $"( \",\" ws {extraMember} )*");
        Rule($"{rule}-f{n}", extraMember is null ? "\"\"" : $"( {extraMember} ( \",\" ws {extraMember} )* )?");
        for (var i = n - 1; i >= 0; i--)
        {
            var (name, schemaOf) = properties[i];
            var member = $"{NameLiteral(name)} ws \":\" ws {Value(schemaOf, $"{path}/properties/{name}")} ws";
            if (required.Contains(name))
            {
                Rule($"{rule}-t{i}", $"\",\" ws {member} {rule}-t{i + 1}");
                Rule($"{rule}-f{i}", $"{member} {rule}-t{i + 1}");
            }
            else
            {
                Rule($"{rule}-t{i}", $"( \",\" ws {member} )? {rule}-t{i + 1}");
                Rule($"{rule}-f{i}", $"{member} {rule}-t{i + 1} | {rule}-f{i + 1}");
            }
        }

        Rule(rule, $"\"{{\" ws {rule}-f0 \"}}\"");
        return rule;
    }

    private string Array(JsonElement s, string path)
    {
        var item = "value";
        if (s.TryGetProperty("items", out var items))
        {
            if (items.ValueKind == JsonValueKind.Array)
            {
                throw new JsonSchemaException($"{path}/items", "items", "items as an array (tuple validation) is not supported");
            }

            item = Value(items, $"{path}/items");
        }

        var min = Count(s, "minItems", path) ?? 0;
        var max = Count(s, "maxItems", path);
        if (max < min)
        {
            throw new JsonSchemaException($"{path}/maxItems", "maxItems", $"maxItems {max} is below minItems {min}");
        }

        var rule = NewRule("array");
        if (max == 0)
        {
            Rule(rule, "\"[\" ws \"]\"");
            return rule;
        }

        var rest = $"( \",\" ws {item} ws ){{{Math.Max(0, min - 1)},{(max is { } m ? (m - 1).ToString(System.Globalization.CultureInfo.InvariantCulture) : "")}}}";
        var members = $"{item} ws {rest}";
        Rule(rule, min == 0 ? $"\"[\" ws ( {members} )? \"]\"" : $"\"[\" ws {members} \"]\"");
        return rule;
    }
}
