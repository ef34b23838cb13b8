using System.Text;
using WrinkleFree.Platform.Specs;
using YamlDotNet.Core;

namespace WrinkleFree.Platform.Tests.Specs;

public sealed class YamlLimitsTests
{
    [Fact]
    public void Check_HundredThousandDeepSequence_RefusedAtTheLevelOverTheLimit()
    {
        // Block style, as the crash: "- " repeated on one line nests one level per dash.
        var yaml = new StringBuilder().Insert(0, "- ", 100_000).Append('x').ToString();

        var error = Assert.Throws<YamlLimitException>(() => YamlLimits.Check(yaml));

        Assert.Contains($"deeper than {YamlLimits.MaxDepth} levels", error.Detail);
        Assert.Equal(1, error.Start.Line);
    }

    [Fact]
    public void Check_DeepFlowSequence_Refused()
    {
        var yaml = new string('[', 100_000) + new string(']', 100_000);

        Assert.Throws<YamlLimitException>(() => YamlLimits.Check(yaml));
    }

    [Fact]
    public void Check_BillionLaughs_RefusedForItsExpandedSize()
    {
        var yaml = new StringBuilder("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for (var level = 'b'; level <= 'i'; level++)
        {
            var previous = (char)(level - 1);
            yaml.Append($"{level}: &{level} [*{previous}, *{previous}, *{previous}, *{previous}, *{previous}, *{previous}, *{previous}, *{previous}, *{previous}, *{previous}]\n");
        }

        var error = Assert.Throws<YamlLimitException>(() => YamlLimits.Check(yaml.ToString()));

        Assert.Contains("expands to more than", error.Detail);
    }

    [Fact]
    public void Check_ManyAliases_Refused()
    {
        var yaml = new StringBuilder("a: &a x\nb:\n");
        for (var i = 0; i <= YamlLimits.MaxAliases; i++)
        {
            yaml.Append("  - *a\n");
        }

        var error = Assert.Throws<YamlLimitException>(() => YamlLimits.Check(yaml.ToString()));

        Assert.Contains($"more than {YamlLimits.MaxAliases} aliases", error.Detail);
    }

    [Fact]
    public void Check_AliasInsideItsOwnAnchor_Refused()
    {
        var error = Assert.Throws<YamlLimitException>(() => YamlLimits.Check("a: &a [1, *a]\n"));

        Assert.Contains("alias *a", error.Detail);
    }

    [Fact]
    public void Check_OverOneMebibyte_Refused()
    {
        var yaml = "run: " + new string('x', YamlLimits.MaxChars);

        var error = Assert.Throws<YamlLimitException>(() => YamlLimits.Check(yaml));

        Assert.Contains("1 MiB", error.Detail);
    }

    [Fact]
    public void Check_OrdinarySpecWithAnchors_Passes()
    {
        var yaml = string.Join('\n',
            "defaults: &d {cpus: 4, memory: 8}",
            "service:",
            "  replicas: 2",
            "  readiness_probe: {path: /health}",
            "resources:",
            "  any_of: [*d, *d]",
            "run: |",
            "  wf replica --model m.gguf");

        YamlLimits.Check(yaml);
    }

    [Fact]
    public void Check_SyntaxError_PropagatesAsYamlException() =>
        Assert.ThrowsAny<YamlException>(() => YamlLimits.Check("a: [1, 2\nb: }"));
}
