using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace WrinkleFree.Cli.Tests.Export;

/// <summary>
/// Reads YAML the way SkyPilot does (PyYAML's safe loader, YAML 1.1) into JSON nodes for <see cref="SchemaValidator"/>: a
/// plain scalar becomes null, a boolean (true/yes/on...), an integer or a float when it reads as one; anything quoted or
/// block-styled stays a string. This is what makes "an env value must be a string" checkable.
/// </summary>
internal static partial class PyYamlJson
{
    public static JsonNode? Load(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        Assert.Single(stream.Documents);
        return Convert(stream.Documents[0].RootNode);
    }

    public static JsonNode? Convert(YamlNode node) => node switch
    {
        YamlMappingNode map => new JsonObject(map.Children.Select(e => KeyValuePair.Create(((YamlScalarNode)e.Key).Value!, Convert(e.Value)))),
        YamlSequenceNode list => new JsonArray([.. list.Children.Select(Convert)]),
        YamlScalarNode { Style: ScalarStyle.Plain or ScalarStyle.Any } plain => Plain(plain.Value ?? ""),
        YamlScalarNode scalar => JsonValue.Create(scalar.Value ?? ""),
        _ => throw new NotSupportedException(node.NodeType.ToString()),
    };

    private static JsonNode? Plain(string text)
    {
        if (Null().IsMatch(text))
            return null;
        if (True().IsMatch(text))
            return JsonValue.Create(true);
        if (False().IsMatch(text))
            return JsonValue.Create(false);
        if (Integer().IsMatch(text))
            return JsonValue.Create(double.Parse(text.Replace("_", "", StringComparison.Ordinal), CultureInfo.InvariantCulture));
        if (Float().IsMatch(text))
            return JsonValue.Create(double.Parse(text.Replace("_", "", StringComparison.Ordinal), CultureInfo.InvariantCulture));
        return JsonValue.Create(text);
    }

    [GeneratedRegex("^(~|null|Null|NULL|)$")]
    private static partial Regex Null();

    [GeneratedRegex("^(yes|Yes|YES|true|True|TRUE|on|On|ON)$")]
    private static partial Regex True();

    [GeneratedRegex("^(no|No|NO|false|False|FALSE|off|Off|OFF)$")]
    private static partial Regex False();

    [GeneratedRegex("^[-+]?(0|[1-9][0-9_]*)$")]
    private static partial Regex Integer();

    [GeneratedRegex("^[-+]?([0-9][0-9_]*)?\\.[0-9_]*([eE][-+][0-9]+)?$")]
    private static partial Regex Float();
}
