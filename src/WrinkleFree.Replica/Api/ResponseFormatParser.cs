using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.RegularExpressions;
using WrinkleFree.Inference.Sampling.Constraints;

namespace WrinkleFree.Replica.Api;

/// <summary>
/// Reads <c>response_format</c> (chat) and <c>grammar</c> (both endpoints) into an <see cref="OutputConstraint"/>. A bad
/// grammar or a schema keyword that is not enforced is a 400 naming the field and the problem.
/// </summary>
internal static partial class ResponseFormatParser
{
    private const int MaxCachedGrammars = 64;

    // Compiled grammars by GBNF text: a grammar's matcher and token masks are built lazily and kept with it, so clients
    // repeating a schema reuse them instead of paying the trie walks again.
    private static readonly ConcurrentDictionary<string, Grammar> Compiled = new(StringComparer.Ordinal);

    public static OutputConstraint? Parse(JsonElement root, bool chat)
    {
        var format = chat ? ResponseFormat(root) : null;
        if (RequestParser.Field(root, "grammar") is not { } grammar)
        {
            return format;
        }

        if (grammar.ValueKind != JsonValueKind.String)
        {
            throw ApiErrors.BadRequest("grammar must be a string (a GBNF grammar, as llama.cpp writes it)", "grammar");
        }

        if (format is not null)
        {
            throw ApiErrors.BadRequest("give either grammar or a response_format of type json_object or json_schema, not both", "grammar");
        }

        var text = grammar.GetString()!;
        return new OutputConstraint
        {
            Compile = () =>
            {
                try
                {
                    return Compile(text);
                }
                catch (GrammarException e)
                {
                    throw ApiErrors.BadRequest($"grammar: {e.Message}", "grammar", "invalid_grammar");
                }
            },
            GrammarText = text,
        };
    }

    private static OutputConstraint? ResponseFormat(JsonElement root)
    {
        if (RequestParser.Field(root, "response_format") is not { } format)
        {
            return null;
        }

        if (format.ValueKind != JsonValueKind.Object)
        {
            throw Bad("response_format must be an object such as {\"type\": \"json_object\"}");
        }

        var type = RequestParser.OptionalString(format, "type", "response_format.type") ?? throw Bad("response_format.type is required");
        switch (type)
        {
            case "text":
                OnlyKeys(format, "response_format", "type");
                return null;
            case "json_object":
                OnlyKeys(format, "response_format", "type");
                return new OutputConstraint { Grammar = JsonSchemaConstraint.JsonObject, ResponseFormatJson = format.GetRawText() };
            case "json_schema":
                OnlyKeys(format, "response_format", "type", "json_schema");
                return new OutputConstraint { Compile = Schema(format), ResponseFormatJson = format.GetRawText() };
            default:
                throw Bad($"response_format.type '{type}' is not one of text, json_object, json_schema");
        }
    }

    // The shape is checked now; the schema is compiled only when a backend enforces it.
    private static Func<Grammar> Schema(JsonElement format)
    {
        if (RequestParser.Field(format, "json_schema") is not { ValueKind: JsonValueKind.Object } spec)
        {
            throw Bad("response_format.json_schema must be an object with name and schema");
        }

        OnlyKeys(spec, "response_format.json_schema", "name", "schema", "strict", "description");
        var name = RequestParser.OptionalString(spec, "name", "response_format.json_schema.name") ?? throw Bad("response_format.json_schema.name is required");
        if (!SchemaName().IsMatch(name))
        {
            throw Bad("response_format.json_schema.name must be 1 to 64 letters, digits, '_' or '-'");
        }

        _ = RequestParser.OptionalString(spec, "description", "response_format.json_schema.description");
        var strict = RequestParser.OptionalBool(spec, "strict", "response_format.json_schema.strict") ?? false;
        if (RequestParser.Field(spec, "schema") is not { } schema)
        {
            throw Bad("response_format.json_schema.schema is required");
        }

        var copy = schema.Clone();
        return () =>
        {
            try
            {
                return Compile(JsonSchemaConstraint.ToGbnf(copy, strict));
            }
            catch (JsonSchemaException e)
            {
                throw ApiErrors.BadRequest($"response_format.json_schema.schema: {e.Message}", "response_format", "unsupported_schema");
            }
        };
    }

    private static Grammar Compile(string gbnf)
    {
        if (Compiled.TryGetValue(gbnf, out var grammar))
        {
            return grammar;
        }

        grammar = Grammar.Parse(gbnf);
        if (Compiled.Count >= MaxCachedGrammars)
        {
            Compiled.Clear();
        }

        return Compiled.GetOrAdd(gbnf, grammar);
    }

    private static void OnlyKeys(JsonElement obj, string where, params string[] allowed)
    {
        foreach (var p in obj.EnumerateObject())
        {
            if (p.Value.ValueKind != JsonValueKind.Null && Array.IndexOf(allowed, p.Name) < 0)
            {
                throw Bad($"{where}.{p.Name} is not a known field here (expected {string.Join(", ", allowed)})");
            }
        }
    }

    private static Backends.BackendException Bad(string message) => ApiErrors.BadRequest(message, "response_format");

    [GeneratedRegex("^[a-zA-Z0-9_-]{1,64}$")]
    private static partial Regex SchemaName();
}
