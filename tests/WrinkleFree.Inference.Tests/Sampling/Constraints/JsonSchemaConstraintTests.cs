using System.Text.Json;
using WrinkleFree.Inference.Sampling.Constraints;

namespace WrinkleFree.Inference.Tests.Sampling.Constraints;

public sealed class JsonSchemaConstraintTests
{
    private const string Person = """
        {"type":"object","properties":{"name":{"type":"string","maxLength":8},"age":{"type":"integer"},
         "email":{"type":"string"},"tags":{"type":"array","items":{"enum":["a","b"]},"maxItems":2}},
         "required":["name","age"],"additionalProperties":false}
        """;

    [Theory]
    [InlineData(Person, """{"name":"Bo","age":3}""", true)]
    [InlineData(Person, """{ "name": "Bo", "age": -3, "tags": ["a", "b"] }""", true)]
    [InlineData(Person, """{"name":"Bo","age":3,"email":"x@y","tags":[]}""", true)]
    [InlineData(Person, """{"age":3,"name":"Bo"}""", false)]
    [InlineData(Person, """{"name":"Bo"}""", false)]
    [InlineData(Person, """{"name":"Bo","age":3.5}""", false)]
    [InlineData(Person, """{"name":"Bo","age":3,"x":1}""", false)]
    [InlineData(Person, """{"name":"waytoolong","age":3}""", false)]
    [InlineData(Person, """{"name":"Bo","age":3,"tags":["a","b","a"]}""", false)]
    [InlineData(Person, """{"name":"Bo","age":3,"tags":["c"]}""", false)]
    [InlineData(Person, """{"name":"Bo","age":3,}""", false)]
    [InlineData("""{"type":"object","properties":{"a":{"type":"boolean"},"b":{"type":"null"}}}""", """{}""", true)]
    [InlineData("""{"type":"object","properties":{"a":{"type":"boolean"},"b":{"type":"null"}}}""", """{"b":null}""", true)]
    [InlineData("""{"type":"object","properties":{"a":{"type":"boolean"},"b":{"type":"null"}}}""", """{"a":true,"b":null}""", true)]
    [InlineData("""{"type":"object","properties":{"a":{"type":"boolean"}}}""", """{"a":true,"zz":[1,{"q":"r"}]}""", true)]
    [InlineData("""{"type":"object","properties":{"a":{"type":"boolean"}},"additionalProperties":{"type":"integer"}}""", """{"z":"s"}""", false)]
    [InlineData("""{"type":"array","items":{"type":"number"},"minItems":2,"maxItems":3}""", """[1.5,2e3]""", true)]
    [InlineData("""{"type":"array","items":{"type":"number"},"minItems":2,"maxItems":3}""", """[1]""", false)]
    [InlineData("""{"type":"array","items":{"type":"number"},"minItems":2,"maxItems":3}""", """[1,2,3,4]""", false)]
    [InlineData("""{"type":"string","minLength":2,"maxLength":3}""", "\"ab\"", true)]
    [InlineData("""{"type":"string","minLength":2,"maxLength":3}""", "\"a\"", false)]
    [InlineData("""{"type":"string","format":"date"}""", "\"2024-02-29\"", true)]
    [InlineData("""{"type":"string","format":"date-time"}""", "\"2024-02-29T13:01:02.5Z\"", true)]
    [InlineData("""{"type":"string","format":"uuid"}""", "\"123e4567-e89b-12d3-a456-426614174000\"", true)]
    [InlineData("""{"type":"string","format":"uuid"}""", "\"123e4567\"", false)]
    [InlineData("""{"const":{"k":[1,"two"]}}""", """{"k":[1,"two"]}""", true)]
    [InlineData("""{"enum":["red",1,null]}""", "null", true)]
    [InlineData("""{"enum":["red",1,null]}""", "\"blue\"", false)]
    [InlineData("""{"anyOf":[{"type":"integer"},{"type":"string","maxLength":1}]}""", "\"x\"", true)]
    [InlineData("""{"type":["integer","null"]}""", "null", true)]
    [InlineData("""{"type":"string"}""", "\"tab\\tquote\\\" unicode \\u00e9 é\"", true)]
    [InlineData("""{"type":"string"}""", "\"raw\nnewline\"", false)]
    [InlineData("""{"$defs":{"node":{"type":"object","properties":{"next":{"anyOf":[{"$ref":"#/$defs/node"},{"type":"null"}]}},"required":["next"],"additionalProperties":false}},"$ref":"#/$defs/node"}""", """{"next":{"next":null}}""", true)]
    [InlineData("""{"definitions":{"n":{"type":"integer"}},"type":"array","items":{"$ref":"#/definitions/n"}}""", "[1,2]", true)]
    [InlineData("""{"definitions":{"n":{"type":"integer"}},"type":"array","items":{"$ref":"#/definitions/n"}}""", "[true]", false)]
    public void Compile_Schema_AcceptsExactlyValidDocuments(string schema, string document, bool valid)
    {
        using var doc = JsonDocument.Parse(schema);
        Assert.Equal(valid, JsonSchemaConstraint.Compile(doc.RootElement).Accepts(document));
    }

    [Theory]
    [InlineData("""{"type":"string","pattern":"^a+$"}""", "#/pattern", "pattern")]
    [InlineData("""{"type":"object","properties":{"n":{"type":"number","minimum":0}}}""", "#/properties/n/minimum", "minimum")]
    [InlineData("""{"type":"object","properties":{"n":{"type":"integer","exclusiveMaximum":5}}}""", "#/properties/n/exclusiveMaximum", "exclusiveMaximum")]
    [InlineData("""{"oneOf":[{"type":"integer"}]}""", "#/oneOf", "oneOf")]
    [InlineData("""{"allOf":[{"type":"integer"}]}""", "#/allOf", "allOf")]
    [InlineData("""{"type":"array","prefixItems":[{"type":"integer"}]}""", "#/prefixItems", "prefixItems")]
    [InlineData("""{"type":"array","items":[{"type":"integer"}]}""", "#/items", "items")]
    [InlineData("""{"type":"string","format":"email"}""", "#/format", "format")]
    [InlineData("""{"type":"wat"}""", "#/type", "type")]
    [InlineData("""{"$ref":"https://example.com/s.json"}""", "#/$ref", "$ref")]
    [InlineData("""{"type":"object","properties":{"a":{}},"required":["b"]}""", "#/required", "required")]
    [InlineData("""{"type":"string","maxLength":-1}""", "#/maxLength", "maxLength")]
    [InlineData("""{"type":"array","minItems":3,"maxItems":2}""", "#/maxItems", "maxItems")]
    [InlineData("""false""", "#", "")]
    public void Compile_UnsupportedKeyword_ThrowsNamingPathAndKeyword(string schema, string path, string keyword)
    {
        using var doc = JsonDocument.Parse(schema);
        var e = Assert.Throws<JsonSchemaException>(() => JsonSchemaConstraint.Compile(doc.RootElement));
        Assert.Equal(path, e.Path);
        Assert.Equal(keyword, e.Keyword);
    }

    [Fact]
    public void Compile_Strict_ClosesObjectsThatDoNotSayOtherwise()
    {
        using var doc = JsonDocument.Parse("""{"type":"object","properties":{"a":{"type":"integer"}},"required":["a"]}""");
        Assert.True(JsonSchemaConstraint.Compile(doc.RootElement).Accepts("""{"a":1,"extra":true}"""));
        Assert.False(JsonSchemaConstraint.Compile(doc.RootElement, strict: true).Accepts("""{"a":1,"extra":true}"""));
        Assert.True(JsonSchemaConstraint.Compile(doc.RootElement, strict: true).Accepts("""{"a":1}"""));
    }

    [Fact]
    public void ToGbnf_Schema_IsAGrammarThatParsesOnItsOwn()
    {
        using var doc = JsonDocument.Parse("""{"type":"object","properties":{"q":{"type":"string","maxLength":3}},"required":["q"],"additionalProperties":false}""");
        var gbnf = JsonSchemaConstraint.ToGbnf(doc.RootElement);
        Assert.StartsWith("root ::= ", gbnf, StringComparison.Ordinal);
        Assert.True(Grammar.Parse(gbnf).Accepts("""{"q":"abc"}"""));
    }

    [Theory]
    [InlineData("{}", true)]
    [InlineData("""{"a":[1,2,{"b":null}],"c":"d"}""", true)]
    [InlineData("[1]", false)]
    [InlineData("""{"a":1} """, false)]
    [InlineData("\"s\"", false)]
    public void JsonObject_Document_AcceptsOnlyObjects(string document, bool valid)
    {
        Assert.Equal(valid, JsonSchemaConstraint.JsonObject.Accepts(document));
    }
}
