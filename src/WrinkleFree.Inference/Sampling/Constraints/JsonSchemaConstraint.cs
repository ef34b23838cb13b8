using System.Text.Json;

namespace WrinkleFree.Inference.Sampling.Constraints;

/// <summary>
/// JSON output constraints: a JSON schema turned into a GBNF grammar (objects with properties, required and
/// additionalProperties; arrays with items, minItems, maxItems; strings with enum, const, minLength, maxLength and the
/// date, time, date-time and uuid formats; number, integer, boolean, null; anyOf; $ref into $defs or definitions), or
/// any JSON object. A keyword that would change what is valid but is not enforced throws <see cref="JsonSchemaException"/>.
/// </summary>
public static class JsonSchemaConstraint
{
    private static readonly Lazy<Grammar> AnyObject = new(() => Grammar.Parse(JsonSchemaGrammarBuilder.AnyObjectGbnf));

    /// <summary>
    /// The GBNF for <paramref name="schema"/> (the root rule is <c>root</c>). <paramref name="strict"/> (OpenAI's strict
    /// mode) closes every object that does not say otherwise: additionalProperties defaults to false instead of true.
    /// </summary>
    public static string ToGbnf(JsonElement schema, bool strict = false) => new JsonSchemaGrammarBuilder(schema, strict).Build();

    /// <summary>The grammar for <paramref name="schema"/>; throws <see cref="JsonSchemaException"/> for what it cannot enforce.</summary>
    public static Grammar Compile(JsonElement schema, bool strict = false) => Grammar.Parse(ToGbnf(schema, strict));

    /// <summary>Any JSON object (<c>response_format: json_object</c>); one shared instance, so its masks are reused.</summary>
    public static Grammar JsonObject => AnyObject.Value;
}
