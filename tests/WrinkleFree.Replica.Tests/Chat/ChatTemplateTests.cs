using WrinkleFree.Replica.Chat;

namespace WrinkleFree.Replica.Tests.Chat;

/// <summary>What the chat layer adds to the Jinja interpreter: the transformers variables, strftime_now and extra values.</summary>
public sealed class ChatTemplateTests
{
    private static readonly ChatMessage[] OneUser = [new("user", "Hi")];

    private static string Render(string template, IReadOnlyDictionary<string, object?>? extra = null) =>
        ChatTemplate.Parse(template).Render(OneUser, addGenerationPrompt: true, "<s>", "</s>", extra);

    [Fact]
    public void Render_TransformersVariables_AreInScope()
    {
        Assert.Equal(
            "xHiuser<s></s>TrueNone",
            Render("{# comment #}x{{ messages[0].content }}{{ messages[0]['role'] }}{{ bos_token }}{{ eos_token }}{{ add_generation_prompt }}{{ tools }}"));
    }

    [Fact]
    public void Render_ConversationVariables_ShadowExtra()
    {
        var extra = new Dictionary<string, object?> { ["bos_token"] = "ignored", ["tools"] = "given", ["raise_exception"] = "shadowed" };
        Assert.Equal("<s> given shadowed", Render("{{ bos_token }} {{ tools }} {{ raise_exception }}", extra));
    }

    [Fact]
    public void Render_StrftimeNow_UsesClockFromExtra()
    {
        var extra = new Dictionary<string, object?> { ["now"] = new DateTimeOffset(2024, 7, 5, 13, 4, 0, TimeSpan.Zero) };
        Assert.Equal("05 Jul 2024 | July 5, 2024 | 13:04", Render("{{ strftime_now('%d %b %Y') }} | {{ strftime_now('%B %-d, %Y') }} | {{ strftime_now('%H:%M') }}", extra));
    }

    [Fact]
    public void Render_ExtraValues_AreConvertedFromClrAndJson()
    {
        var tools = System.Text.Json.JsonDocument.Parse("""[{"name": "f", "n": 2, "ok": true}]""").RootElement;
        var extra = new Dictionary<string, object?> { ["tools"] = tools, ["flag"] = false, ["list"] = new[] { 1, 2 } };
        Assert.Equal("f 2 True False [1, 2]", Render("{{ tools[0].name }} {{ tools[0].n }} {{ tools[0].ok }} {{ flag }} {{ list }}", extra));
    }
}
