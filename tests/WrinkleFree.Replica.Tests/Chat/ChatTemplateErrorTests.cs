using WrinkleFree.Replica.Chat;
using WrinkleFree.Testing;

namespace WrinkleFree.Replica.Tests.Chat;

public sealed class ChatTemplateErrorTests
{
    private static readonly ChatMessage[] OneUser = [new("user", "Hi")];

    // The language's own error positions are tested in WrinkleFree.Jinja.Tests; here, that they reach the chat layer intact.
    [Fact]
    public void Parse_SyntaxError_IsChatTemplateExceptionNamingLineAndColumn()
    {
        var e = Assert.Throws<ChatTemplateException>(() => ChatTemplate.Parse("ok\n  {% for x in %}{% endfor %}"));
        Assert.Equal((2, 15), (e.Line, e.Column));
        Assert.StartsWith("unexpected '%}'", e.Detail, StringComparison.Ordinal);
        Assert.Equal($"{e.Detail} (chat template line 2, column 15)", e.Message);
    }

    [Theory]
    [InlineData("ab\n  {{ raise_exception('bad ' ~ 'things') }}", "bad things", 2, 6)]
    [InlineData("{% if true %}{{ raise_exception() }}{% endif %}", "raise_exception called", 1, 17)]
    [InlineData("{{ x + 1 }}", "'x' is undefined", 1, 6)]
    public void Render_RuntimeError_SurfacesMessageAndPosition(string template, string detail, int line, int column)
    {
        var parsed = ChatTemplate.Parse(template);
        var e = Assert.Throws<ChatTemplateException>(() => parsed.Render(OneUser, true, "", ""));
        Assert.Equal(detail, e.Detail);
        Assert.Equal((line, column), (e.Line, e.Column));
    }

    [Fact]
    public void Render_RunawayTemplate_StopsWithChatTemplateException()
    {
        var parsed = ChatTemplate.Parse("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}");
        Assert.Throws<ChatTemplateException>(() => parsed.Render(OneUser, true, "", ""));
    }

    [Fact]
    public void ParseAndRender_RandomGarbage_OnlyEverThrowsChatTemplateException()
    {
        var messages = new ChatMessage[] { new("system", "s"), new("user", "u"), new("assistant", "a") };
        var rendered = 0;
        foreach (var (source, random) in RandomTemplates.Generate([" messages ", " raise_exception('r') "]))
        {
            try
            {
                ChatTemplate.Parse(source).Render(messages, random.Next(2) == 0, "<s>", "</s>");
                rendered++;
            }
            catch (ChatTemplateException e)
            {
                // Deliberate errors only: an "internal" error is an interpreter bug caught by the safety net.
                Assert.False(e.Detail.StartsWith("internal", StringComparison.Ordinal), $"{e.Message}\nTemplate: {source}");
                Assert.True(e.Line >= 1 && e.Column >= 1, source);
            }
        }

        Assert.True(rendered > 0);
    }
}
