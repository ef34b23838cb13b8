using WrinkleFree.Testing;

namespace WrinkleFree.Jinja.Tests;

/// <summary>Syntax and runtime errors name their position; runaway and garbage templates fail with a JinjaException only.</summary>
public sealed class JinjaErrorTests
{
    [Theory]
    [InlineData("{{ 1 + }}", 1, 8)]
    [InlineData("line one\n{% if x %}\nno end", 3, 7)]
    [InlineData("ok\n  {% for x in %}{% endfor %}", 2, 15)]
    [InlineData("{{ 'unterminated }}", 1, 4)]
    [InlineData("{# never closed", 1, 1)]
    [InlineData("a\nb {{ x | nosuchfilter }}", 2, 10)]
    [InlineData("{% endif %}", 1, 4)]
    [InlineData("{% frobnicate %}", 1, 4)]
    [InlineData("{{ x is nosuchtest }}", 1, 9)]
    [InlineData("{% break %}", 1, 4)]
    [InlineData("{{ (1 }}", 1, 7)]
    [InlineData("{% set %}", 1, 8)]
    public void Parse_SyntaxError_NamesLineAndColumn(string template, int line, int column)
    {
        var e = Assert.Throws<JinjaException>(() => JinjaTemplate.Parse(template));
        Assert.Equal((line, column), (e.Line, e.Column));
        Assert.Contains($"line {line}, column {column}", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ab\n  {{ fail('bad ' ~ 'things') }}", "bad things", 2, 6)]
    [InlineData("{{ nosuchfunction() }}", "'nosuchfunction' is undefined", 1, 4)]
    [InlineData("{{ x + 1 }}", "'x' is undefined", 1, 6)]
    [InlineData("{{ 1 / 0 }}", "division by zero", 1, 6)]
    [InlineData("{{ 'a' + 1 }}", "unsupported operand type(s) for +: 'str' and 'int'", 1, 8)]
    [InlineData("{% set x = 1 %}{% set x.y = 2 %}", "cannot assign attribute 'y' on 'x': only namespace() objects allow it", 1, 16)]
    [InlineData("{% for a, b in [1] %}{% endfor %}", "'int' object is not iterable", 1, 1)]
    [InlineData("{{ none.foo() }}", "'foo' is undefined", 1, 9)]
    public void Render_RuntimeError_SurfacesMessageAndPosition(string template, string detail, int line, int column)
    {
        var parsed = JinjaTemplate.Parse(template);
        var e = Assert.Throws<JinjaException>(() => parsed.Render(Variables));
        Assert.Equal(detail, e.Detail);
        Assert.Equal((line, column), (e.Line, e.Column));
    }

    [Theory]
    [InlineData("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}")]
    [InlineData("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}")]
    [InlineData("{{ 'x' * 100000000 }}")]
    [InlineData("{% set ns = namespace(s='ab') %}{% for i in range(40) %}{% set ns.s = ns.s + ns.s %}{% endfor %}")]
    [InlineData("{{ range(10000000) }}")]
    public void Render_RunawayTemplate_StopsWithTemplateError(string template)
    {
        var parsed = JinjaTemplate.Parse(template);
        Assert.Throws<JinjaException>(() => parsed.Render());
    }

    [Fact]
    public void Parse_DeeplyNestedExpression_FailsCleanly()
    {
        var template = "{{ " + new string('(', 5000) + "1" + new string(')', 5000) + " }}";
        var e = Assert.Throws<JinjaException>(() => JinjaTemplate.Parse(template));
        Assert.Contains("too deep", e.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void ParseAndRender_RandomGarbage_OnlyEverThrowsJinjaException()
    {
        var rendered = 0;
        foreach (var (source, random) in RandomTemplates.Generate([" fail('r') "]))
        {
            try
            {
                JinjaTemplate.Parse(source).Render(Variables);
                rendered++;
            }
            catch (JinjaException e)
            {
                // Deliberate errors only: an "internal" error is an interpreter bug caught by the safety net.
                Assert.False(e.Detail.StartsWith("internal", StringComparison.Ordinal), $"{e.Message}\nTemplate: {source}");
                Assert.True(e.Line >= 1 && e.Column >= 1, source);
            }
        }

        Assert.True(rendered > 0);
    }

    // A list of role/content dicts and a function that fails the render, as a caller would supply them.
    private static Dictionary<string, object?> Variables => new()
    {
        ["items"] = new[]
        {
            new Dictionary<string, object?> { ["role"] = "system", ["content"] = "s" },
            new Dictionary<string, object?> { ["role"] = "user", ["content"] = "u" },
        },
        ["fail"] = (JinjaFunction)(arguments => throw new JinjaException(arguments.GetString(0, "failed"))),
    };
}
