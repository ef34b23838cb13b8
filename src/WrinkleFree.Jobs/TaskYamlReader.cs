using System.Globalization;
using WrinkleFree.Platform.Specs;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace WrinkleFree.Jobs;

/// <summary>Typed reads from YamlDotNet nodes that fail with the key path, line and column (the house style of spec errors).</summary>
internal sealed class TaskYamlReader(string? sourceName)
{
    private static readonly string[] NullWords = ["", "~", "null", "Null", "NULL"];

    public TaskSpecException Error(string path, YamlNode node, string detail) => Error(path, node.Start, detail);

    public TaskSpecException Error(string path, Mark mark, string detail) =>
        new(path, checked((int)mark.Line), checked((int)mark.Column), detail, sourceName);

    public static string Join(string path, string key) => path.Length == 0 ? key : $"{path}.{key}";

    public static bool IsNull(YamlNode? node) =>
        node is null || (node is YamlScalarNode { Style: ScalarStyle.Plain or ScalarStyle.Any } scalar && NullWords.Contains(scalar.Value ?? ""));

    /// <summary>The entries of a mapping, in order; keys outside <paramref name="allowed"/> (when given) are errors with a hint.</summary>
    public List<(string Key, YamlScalarNode KeyNode, YamlNode Value)> Map(YamlNode node, string path, IReadOnlyList<string>? allowed)
    {
        if (node is not YamlMappingNode mapping)
        {
            throw Error(path, node, $"must be a mapping, got {Describe(node)}");
        }

        var entries = new List<(string, YamlScalarNode, YamlNode)>();
        foreach (var (keyNode, value) in mapping.Children)
        {
            if (keyNode is not YamlScalarNode { Value: { } key } scalar)
            {
                throw Error(path, keyNode, "keys must be plain strings");
            }

            if (allowed is not null && !allowed.Contains(key))
            {
                var hint = KeySuggestion.Closest(key, allowed) is { } suggestion
                    ? $"did you mean '{suggestion}'?"
                    : $"valid keys here: {string.Join(", ", allowed)}";
                throw Error(Join(path, key), keyNode, $"unknown key '{key}'; {hint}");
            }

            entries.Add((key, scalar, value));
        }

        return entries;
    }

    public string String(YamlNode node, string path) => node is YamlScalarNode { Value: { } value } && !IsNull(node)
        ? value
        : throw Error(path, node, $"must be a string, got {Describe(node)}");

    public int Int(YamlNode node, string path, int min)
    {
        if (node is YamlScalarNode { Style: ScalarStyle.Plain or ScalarStyle.Any, Value: { } text }
            && int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
        {
            return value >= min ? value : throw Error(path, node, $"must be at least {min}, got {value}");
        }

        throw Error(path, node, $"must be an integer, got {Describe(node)}");
    }

    public bool Bool(YamlNode node, string path) => node is YamlScalarNode { Style: ScalarStyle.Plain or ScalarStyle.Any, Value: { } text }
        ? text.ToLowerInvariant() switch
        {
            "true" or "yes" or "on" => true,
            "false" or "no" or "off" => false,
            _ => throw Error(path, node, $"must be true or false, got {Describe(node)}"),
        }
        : throw Error(path, node, $"must be true or false, got {Describe(node)}");

    /// <summary>One of <paramref name="choices"/>, compared case-insensitively, returned as written in the list.</summary>
    public string Choice(YamlNode node, string path, IReadOnlyList<string> choices)
    {
        var text = String(node, path);
        return choices.FirstOrDefault(c => string.Equals(c, text, StringComparison.OrdinalIgnoreCase))
            ?? throw Error(path, node, $"must be one of {string.Join(", ", choices)}, got '{text}'");
    }

    public static string Describe(YamlNode node) => node switch
    {
        YamlMappingNode => "a mapping",
        YamlSequenceNode => "a list",
        _ when IsNull(node) => "nothing (null)",
        YamlScalarNode { Style: ScalarStyle.Plain or ScalarStyle.Any } scalar => $"'{scalar.Value}'",
        YamlScalarNode scalar => $"the string '{scalar.Value}'",
        _ => node.NodeType.ToString(),
    };
}
