using System.Text.Json;
using System.Text.Json.Nodes;

namespace WrinkleFree.Jinja.Tests;

/// <summary>The public API: parse errors, variables, undefined names and caller-supplied functions.</summary>
public sealed class JinjaTemplateApiTests
{
    [Fact]
    public void Parse_SyntaxError_CarriesLineColumnAndDetail()
    {
        var e = Assert.Throws<JinjaException>(() => JinjaTemplate.Parse("first line\nsecond {{ 1 + }}"));
        Assert.Equal((2, 15), (e.Line, e.Column));
        Assert.Equal("unexpected '}}', expected an expression", e.Detail);
        Assert.Equal($"{e.Detail} (template line 2, column 15)", e.Message);
    }

    [Fact]
    public void Parse_KeepsSource_AndRendersRepeatedlyWithDifferentVariables()
    {
        var template = JinjaTemplate.Parse("Hello {{ name }}!");
        Assert.Equal("Hello {{ name }}!", template.Source);
        Assert.Equal("Hello Ada!", template.Render(new Dictionary<string, object?> { ["name"] = "Ada" }));
        Assert.Equal("Hello Bob!", template.Render(new Dictionary<string, object?> { ["name"] = "Bob" }));
        Assert.Equal("Hello !", template.Render());
    }

    [Theory]
    [InlineData("[{{ missing }}]", "[]")]
    [InlineData("[{{ missing.attr['key'].deeper }}]", "[]")]
    [InlineData("{{ missing is defined }} {{ missing is undefined }} {{ 'yes' if missing else 'no' }}", "False True no")]
    [InlineData("{{ missing | default('fallback') }} {{ missing | length }}", "fallback 0")]
    [InlineData("{% for x in missing %}x{% else %}empty{% endfor %}", "empty")]
    public void Render_UndefinedVariable_BehavesLikeJinjasDefaultUndefined(string template, string expected) =>
        Assert.Equal(expected, JinjaTemplate.Parse(template).Render());

    [Fact]
    public void Render_UndefinedVariableInArithmetic_FailsAtItsPosition()
    {
        var e = Assert.Throws<JinjaException>(() => JinjaTemplate.Parse("ok\n{{ 1 + missing }}").Render());
        Assert.Equal("'missing' is undefined", e.Detail);
        Assert.Equal((2, 6), (e.Line, e.Column));
    }

    [Fact]
    public void Render_CallerFunction_ReceivesTemplateValuesAndReturnsAConvertedValue()
    {
        JinjaArguments? seen = null;
        JinjaFunction repeat = arguments =>
        {
            seen = arguments;
            var count = (long)arguments.Positional[1]!;
            var separator = arguments.Named.TryGetValue("sep", out var sep) ? (string)sep! : ",";
            return Enumerable.Repeat(arguments.GetString(0, "?"), (int)count).Append(separator);
        };
        var variables = new Dictionary<string, object?> { ["repeat"] = repeat };

        var output = JinjaTemplate.Parse("{{ repeat('ab', 2, sep='-') | join('') }} {{ repeat }} {{ repeat is callable }}").Render(variables);

        Assert.Equal("abab- <function repeat> True", output);
        Assert.NotNull(seen);
        Assert.Equal(new object?[] { "ab", 2L }, seen.Positional);
        Assert.Equal("-", seen.Named["sep"]);
        Assert.Equal("fallback", seen.GetString(5, "fallback"));
    }

    [Fact]
    public void Render_CallerFunction_SeesListsDictsAndPrintedForms()
    {
        var received = new List<object?>();
        JinjaFunction inspect = arguments =>
        {
            received.AddRange(arguments.Positional);
            return string.Join("|", Enumerable.Range(0, arguments.Positional.Count).Select(i => arguments.GetString(i, "")));
        };

        var output = JinjaTemplate.Parse("{{ f(none, true, 1.0, [1, 'a'], {'k': 'v'}, missing) }}")
            .Render(new Dictionary<string, object?> { ["f"] = inspect });

        Assert.Equal("None|True|1.0|[1, 'a']|{'k': 'v'}|", output);
        Assert.Null(received[0]);
        Assert.Equal(true, received[1]);
        Assert.Equal(1.0, received[2]);
        Assert.Equal(new object?[] { 1L, "a" }, Assert.IsAssignableFrom<IReadOnlyList<object?>>(received[3]));
        Assert.Equal("v", Assert.IsAssignableFrom<IReadOnlyDictionary<string, object?>>(received[4])["k"]);
    }

    [Fact]
    public void Render_CallerFunctionThrowingJinjaException_FailsAtTheCall()
    {
        JinjaFunction check = arguments => throw new JinjaException("not allowed: " + arguments.GetString(0, ""));
        var template = JinjaTemplate.Parse("line\n  {% if true %}{{ check('x') }}{% endif %}");

        var e = Assert.Throws<JinjaException>(() => template.Render(new Dictionary<string, object?> { ["check"] = check }));

        Assert.Equal("not allowed: x", e.Detail);
        Assert.Equal((2, 19), (e.Line, e.Column));
    }

    [Fact]
    public void Render_CallerFunctionThrowingAnotherException_IsReportedAsAnInternalError()
    {
        JinjaFunction broken = _ => throw new InvalidOperationException("boom");
        var e = Assert.Throws<JinjaException>(() => JinjaTemplate.Parse("{{ broken() }}").Render(new Dictionary<string, object?> { ["broken"] = broken }));
        Assert.Equal("internal template error: InvalidOperationException: boom", e.Detail);
        Assert.IsType<InvalidOperationException>(e.InnerException);
    }

    [Fact]
    public void Render_Variables_ShadowBuiltInGlobals()
    {
        JinjaFunction range = _ => "mine";
        Assert.Equal("[0, 1]", JinjaTemplate.Parse("{{ range(2) }}").Render());
        Assert.Equal("mine", JinjaTemplate.Parse("{{ range(2) }}").Render(new Dictionary<string, object?> { ["range"] = range }));
    }

    [Fact]
    public void Render_Variables_AreConvertedFromClrAndJson()
    {
        var tools = JsonDocument.Parse("""[{"name": "f", "n": 2, "ok": true}]""").RootElement;
        var variables = new Dictionary<string, object?>
        {
            ["tools"] = tools,
            ["node"] = JsonNode.Parse("""{"x": 1.5}"""),
            ["flag"] = false,
            ["list"] = new[] { 1, 2 },
            ["nested"] = new Dictionary<string, object?> { ["g"] = (JinjaFunction)(_ => 7) },
        };
        Assert.Equal(
            "f 2 True 1.5 False [1, 2] 7 <function g>",
            JinjaTemplate.Parse("{{ tools[0].name }} {{ tools[0].n }} {{ tools[0].ok }} {{ node.x }} {{ flag }} {{ list }} {{ nested.g() }} {{ nested.g }}")
                .Render(variables));
    }

    [Fact]
    public void Render_VariableNestedTooDeeply_NamesTheVariable()
    {
        object? value = "leaf";
        for (var i = 0; i < 100; i++)
        {
            value = new[] { value };
        }

        var e = Assert.Throws<JinjaException>(() => JinjaTemplate.Parse("x").Render(new Dictionary<string, object?> { ["deep"] = value }));
        Assert.Equal("template variable 'deep': template variable is nested too deeply", e.Detail);
        Assert.Equal((1, 1), (e.Line, e.Column));
    }
}
