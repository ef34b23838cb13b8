namespace WrinkleFree.Jinja.Tests;

/// <summary>The language: expressions, filters, statements and whitespace control render as Jinja (in transformers' environment) does.</summary>
public sealed class JinjaSyntaxTests
{
    private static string Render(string template, IReadOnlyDictionary<string, object?>? variables = null) =>
        JinjaTemplate.Parse(template).Render(variables);

    [Theory]
    [InlineData("{{ 1 + 2 * 3 }}", "7")]
    [InlineData("{{ 7 // 2 }} {{ -7 // 2 }} {{ 7 / 2 }} {{ -7 % 3 }} {{ 2 ** 10 }}", "3 -4 3.5 2 1024")]
    [InlineData("{{ 'a' ~ 1 ~ none }}", "a1None")]
    [InlineData("{{ true }} {{ false }} {{ none }} {{ 1.0 }} {{ 0.5 }}", "True False None 1.0 0.5")]
    [InlineData("{{ [1, 'a', none] }} {{ {'k': 'v'} }}", "[1, 'a', None] {'k': 'v'}")]
    [InlineData("{{ 'x' if false }}|{{ 'y' if true else 'z' }}", "|y")]
    [InlineData("{{ 'abc'[::-1] }} {{ [1,2,3][1:] }} {{ 'hello'[-1] }} {{ [1,2,3][-2] }}", "cba [2, 3] o 2")]
    [InlineData("{{ 1 < 2 < 3 }} {{ 'b' in 'abc' }} {{ 3 not in [1, 2] }} {{ not 1 == 2 }}", "True True True True")]
    [InlineData("{{ '  a b  '.strip() }}|{{ 'a,b'.split(',') }}|{{ 'x y  z'.split() }}", "a b|['a', 'b']|['x', 'y', 'z']")]
    [InlineData("{{ 'abc'.startswith('ab') }} {{ 'abc'.endswith(('x', 'c')) }} {{ 'Hello World'.title() }}", "True True Hello World")]
    [InlineData("{{ '\\n\\nx\\n'.lstrip('\\n') }}|{{ 'aXbX'.replace('X', '-') }}|{{ 'ab'.upper() }}", "x\n|a-b-|AB")]
    [InlineData("{{ {'a': 1}.get('a') }} {{ {'a': 1}.get('b', 2) }} {{ {'a': 1}.items() | list }}", "1 2 [['a', 1]]")]
    [InlineData("{{ undefined_thing }}|{{ undefined_thing.attr.deeper }}|{{ undefined_thing is defined }}", "||False")]
    public void Render_Expressions_MatchJinja(string template, string expected) => Assert.Equal(expected, Render(template));

    [Theory]
    [InlineData("{{ '  x  ' | trim }}|{{ 'ab' | upper }}|{{ 'AB' | lower }}|{{ 'hello' | capitalize }}", "x|AB|ab|Hello")]
    [InlineData("{{ [1, 2, 3] | length }} {{ [1, 2] | first }} {{ [1, 2] | last }} {{ [3, 1, 2] | sort | join(',') }}", "3 1 2 1,2,3")]
    [InlineData("{{ missing | default('d') }} {{ '' | default('e', true) }} {{ none | default('n') }}", "d e None")]
    [InlineData("{{ '3' | int + 1 }} {{ 'x' | int }} {{ '2.5' | float }} {{ 5 | string }}", "4 0 2.5 5")]
    [InlineData("{{ [{'r': 'a'}, {'r': 'b'}] | selectattr('r', 'equalto', 'b') | map(attribute='r') | list }}", "['b']")]
    [InlineData("{{ [{'r': 'a'}, {'r': 'b'}] | rejectattr('r', 'equalto', 'b') | list | length }}", "1")]
    [InlineData("{{ ['a', 'code_interpreter'] | reject('equalto', 'code_interpreter') | join(', ') }}", "a")]
    [InlineData("{% for k, v in {'b': 1, 'a': 2} | dictsort %}{{ k }}={{ v }};{% endfor %}", "a=2;b=1;")]
    [InlineData("{% for k, v in {'b': 1, 'a': 2} | items %}{{ k }}={{ v }};{% endfor %}", "b=1;a=2;")]
    [InlineData("{{ {'a': [1, 2.5, 'é\"'], 'b': none, 'c': true} | tojson }}", "{\"a\": [1, 2.5, \"é\\\"\"], \"b\": null, \"c\": true}")]
    [InlineData("{{ {'a': [1], 'b': {}} | tojson(indent=2) }}", "{\n  \"a\": [\n    1\n  ],\n  \"b\": {}\n}")]
    [InlineData("{{ 'a\\nb' | indent(2) }}|{{ 'ab' | replace('a', 'x') }}|{{ 'x' | safe }}", "a\n  b|xb|x")]
    public void Render_Filters_MatchJinja(string template, string expected) => Assert.Equal(expected, Render(template));

    [Theory]
    [InlineData("{% for x in [1, 2, 3] %}{{ loop.index }}{{ loop.index0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }}{{ loop.revindex }};{% endfor %}",
        "10TrueFalse33;21FalseFalse32;32FalseTrue31;")]
    [InlineData("{% for x in [] %}x{% else %}empty{% endfor %}", "empty")]
    [InlineData("{% for x in [1, 2, 3, 4] if x is even %}{{ x }}{% endfor %}", "24")]
    [InlineData("{% for x in range(10) %}{% if x == 3 %}{% break %}{% endif %}{% if x == 1 %}{% continue %}{% endif %}{{ x }}{% endfor %}", "02")]
    [InlineData("{% set ns = namespace(found=false) %}{% for x in [1, 2] %}{% set ns.found = true %}{% endfor %}{{ ns.found }}", "True")]
    [InlineData("{% set x = 1 %}{% for i in [1] %}{% set x = 2 %}{% endfor %}{{ x }}", "1")]
    [InlineData("{% if false %}a{% elif true %}b{% else %}c{% endif %}", "b")]
    [InlineData("{% macro greet(name, greeting='Hi') %}{{ greeting }} {{ name }}{% endmacro %}{{ greet('Bob') }}/{{ greet('Al', greeting='Yo') }}", "Hi Bob/Yo Al")]
    [InlineData("{% set block %}inner{% endset %}{{ block | upper }}", "INNER")]
    [InlineData("{% for a, b in [[1, 2], [3, 4]] %}{{ a + b }}{% endfor %}", "37")]
    [InlineData("{% raw %}{{ not evaluated }}{% endraw %}", "{{ not evaluated }}")]
    [InlineData("{# comment #}x{{ items[0].content }}{{ items[0]['role'] }}{{ text }}{{ flag }}{{ nothing }}", "xHiuser<s>TrueNone")]
    public void Render_Statements_MatchJinja(string template, string expected)
    {
        var variables = new Dictionary<string, object?>
        {
            ["items"] = new[] { new Dictionary<string, object?> { ["role"] = "user", ["content"] = "Hi" } },
            ["text"] = "<s>",
            ["flag"] = true,
            ["nothing"] = null,
        };
        Assert.Equal(expected, Render(template, variables));
    }

    [Theory]
    [InlineData("a\n{% if true %}\nb\n{% endif %}\nc", "a\nb\nc")]
    [InlineData("a\n    {% if true %}\n    b\n    {% endif %}\nc", "a\n    b\nc")]
    [InlineData("a  {%- if true -%}  b  {%- endif -%}  c", "abc")]
    [InlineData("a\n  {{- 'x' -}}\n  b", "axb")]
    [InlineData("a\n  {{ 'x' }}\nb", "a\n  x\nb")]
    [InlineData("{# c #}\nx", "x")]
    [InlineData("a {%+ if true %}b{% endif +%}\nc", "a b\nc")]
    public void Render_WhitespaceControl_MatchesTransformersDefaults(string template, string expected) => Assert.Equal(expected, Render(template));
}
