using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace WrinkleFree.Cli.Tests.Export;

/// <summary>
/// A minimal JSON Schema validator for the keywords SkyPilot's schemas use (tests/data/skypilot/*.schema.json), plus
/// SkyPilot's own case_insensitive_enum. Written here rather than taken from NuGet: JsonSchema.Net is served, but adding a
/// package means editing Directory.Packages.props, which this change may not touch; and SkyPilot's custom keyword needs
/// handling either way. A keyword it does not know is an error, so a schema edit can never pass vacuously.
/// </summary>
internal sealed class SchemaValidator
{
    private static readonly HashSet<string> Annotations = ["$schema", "$comment", "$defs", "description", "default"];

    private readonly JsonObject _root;

    private SchemaValidator(JsonObject root) => _root = root;

    public static SchemaValidator Load(string path) => new(JsonNode.Parse(File.ReadAllText(path))!.AsObject());

    /// <summary>Every violation, as "PATH: what", empty when <paramref name="value"/> is valid.</summary>
    public List<string> Validate(JsonNode? value)
    {
        var errors = new List<string>();
        Check(_root, value, "$", errors);
        return errors;
    }

    private void Check(JsonNode schemaNode, JsonNode? value, string path, List<string> errors)
    {
        if (schemaNode is JsonValue boolean && boolean.TryGetValue<bool>(out var allowed))
        {
            if (!allowed)
                errors.Add($"{path}: no value is allowed here");
            return;
        }

        var schema = schemaNode.AsObject();
        foreach (var (keyword, argument) in schema)
        {
            if (Annotations.Contains(keyword))
                continue;
            switch (keyword)
            {
                case "$ref":
                    Check(Resolve(argument!.GetValue<string>()), value, path, errors);
                    break;
                case "type":
                    var types = argument is JsonArray list ? list.Select(t => t!.GetValue<string>()).ToArray() : [argument!.GetValue<string>()];
                    if (!types.Any(t => IsType(value, t)))
                        errors.Add($"{path}: must be {string.Join(" or ", types)}, got {Kind(value)}");
                    break;
                case "properties":
                    if (value is JsonObject props)
                    {
                        foreach (var (name, sub) in argument!.AsObject())
                        {
                            if (props.TryGetPropertyValue(name, out var child))
                                Check(sub!, child, $"{path}.{name}", errors);
                        }
                    }

                    break;
                case "patternProperties":
                    if (value is JsonObject patterned)
                    {
                        foreach (var (pattern, sub) in argument!.AsObject())
                        {
                            foreach (var (name, child) in patterned.Where(p => Regex.IsMatch(p.Key, pattern)))
                                Check(sub!, child, $"{path}.{name}", errors);
                        }
                    }

                    break;
                case "additionalProperties":
                    if (value is JsonObject extra)
                    {
                        var known = schema["properties"]?.AsObject().Select(p => p.Key).ToHashSet() ?? [];
                        var patterns = schema["patternProperties"]?.AsObject().Select(p => p.Key).ToList() ?? [];
                        foreach (var (name, child) in extra.Where(p => !known.Contains(p.Key) && !patterns.Any(r => Regex.IsMatch(p.Key, r))))
                        {
                            if (argument is JsonValue flag && flag.TryGetValue<bool>(out var permitted))
                            {
                                if (!permitted)
                                    errors.Add($"{path}: unknown key '{name}'");
                            }
                            else
                            {
                                Check(argument!, child, $"{path}.{name}", errors);
                            }
                        }
                    }

                    break;
                case "required":
                    if (value is JsonObject needed)
                    {
                        foreach (var name in argument!.AsArray().Select(n => n!.GetValue<string>()).Where(n => !needed.ContainsKey(n)))
                            errors.Add($"{path}: missing required key '{name}'");
                    }

                    break;
                case "anyOf":
                    if (!argument!.AsArray().Any(s => Passes(s!, value, path)))
                        errors.Add($"{path}: matches none of anyOf");
                    break;
                case "oneOf":
                    var matches = argument!.AsArray().Count(s => Passes(s!, value, path));
                    if (matches != 1)
                        errors.Add($"{path}: matches {matches} of oneOf, not exactly one");
                    break;
                case "not":
                    if (Passes(argument!, value, path))
                        errors.Add($"{path}: matches a schema it must not");
                    break;
                case "enum":
                    if (!argument!.AsArray().Any(e => JsonNode.DeepEquals(e, value)))
                        errors.Add($"{path}: {value?.ToJsonString()} is not one of {argument.ToJsonString()}");
                    break;
                case "case_insensitive_enum" or "case_sensitive_enum":
                    if (value is JsonValue text && text.TryGetValue<string>(out var s)
                        && !argument!.AsArray().Any(e => string.Equals(e!.GetValue<string>(), s, keyword == "case_sensitive_enum" ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase)))
                        errors.Add($"{path}: '{s}' is not one of {argument.ToJsonString()}");
                    break;
                case "pattern":
                    if (value is JsonValue patternText && patternText.TryGetValue<string>(out var p) && !Regex.IsMatch(p, argument!.GetValue<string>()))
                        errors.Add($"{path}: '{p}' does not match {argument.GetValue<string>()}");
                    break;
                case "minimum" or "maximum" or "exclusiveMinimum":
                    if (Number(value) is { } number)
                    {
                        var bound = argument!.GetValue<double>();
                        var ok = keyword switch { "minimum" => number >= bound, "maximum" => number <= bound, _ => number > bound };
                        if (!ok)
                            errors.Add($"{path}: {number} violates {keyword} {bound}");
                    }

                    break;
                case "minLength" or "maxLength":
                    if (value is JsonValue lengthText && lengthText.TryGetValue<string>(out var l))
                    {
                        var limit = argument!.GetValue<int>();
                        if (keyword == "minLength" ? l.Length < limit : l.Length > limit)
                            errors.Add($"{path}: length {l.Length} violates {keyword} {limit}");
                    }

                    break;
                case "maxProperties" or "minProperties":
                    if (value is JsonObject counted)
                    {
                        var limit = argument!.GetValue<int>();
                        if (keyword == "maxProperties" ? counted.Count > limit : counted.Count < limit)
                            errors.Add($"{path}: {counted.Count} keys violate {keyword} {limit}");
                    }

                    break;
                case "items":
                    if (value is JsonArray items)
                    {
                        for (var i = 0; i < items.Count; i++)
                            Check(argument!, items[i], $"{path}[{i}]", errors);
                    }

                    break;
                case "minItems":
                    if (value is JsonArray few && few.Count < argument!.GetValue<int>())
                        errors.Add($"{path}: fewer than {argument.GetValue<int>()} items");
                    break;
                case "uniqueItems":
                    if (value is JsonArray unique && argument!.GetValue<bool>() && unique.Select(i => i?.ToJsonString()).Distinct().Count() != unique.Count)
                        errors.Add($"{path}: items are not unique");
                    break;
                default:
                    throw new NotSupportedException($"schema keyword '{keyword}' at {path} is not supported by this validator; extend it");
            }
        }
    }

    private bool Passes(JsonNode schema, JsonNode? value, string path)
    {
        var errors = new List<string>();
        Check(schema, value, path, errors);
        return errors.Count == 0;
    }

    private JsonNode Resolve(string reference)
    {
        if (!reference.StartsWith("#/", StringComparison.Ordinal))
            throw new NotSupportedException($"only local references are supported, got {reference}");
        JsonNode node = _root;
        foreach (var part in reference[2..].Split('/'))
            node = node[part] ?? throw new InvalidOperationException($"unresolved reference {reference}");
        return node;
    }

    private static bool IsType(JsonNode? value, string type) => type switch
    {
        "null" => value is null,
        "object" => value is JsonObject,
        "array" => value is JsonArray,
        "string" => value is JsonValue v && v.GetValueKind() == JsonValueKind.String,
        "boolean" => value is JsonValue b && b.GetValueKind() is JsonValueKind.True or JsonValueKind.False,
        "number" => Number(value) is not null,
        "integer" => Number(value) is { } n && Math.Floor(n) == n,
        _ => throw new NotSupportedException($"type '{type}'"),
    };

    private static double? Number(JsonNode? value) =>
        value is JsonValue v && v.GetValueKind() == JsonValueKind.Number ? v.GetValue<double>() : null;

    private static string Kind(JsonNode? value) => value is null ? "null" : value.GetValueKind().ToString().ToLowerInvariant();
}
