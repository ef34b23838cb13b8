using System.Globalization;
using WrinkleFree.Platform.Specs;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace WrinkleFree.Service.Spec;

/// <summary>
/// Typed reads from YamlDotNet's representation model that fail with the key path, line and column, and that remember
/// where each key path was so later cross-field errors can point at it too.
/// </summary>
internal sealed class YamlNodeReader(string? sourceName)
{
    private static readonly string[] NullWords = ["", "~", "null", "Null", "NULL"];
    private static readonly string[] TrueWords = ["true", "yes", "on"];
    private static readonly string[] FalseWords = ["false", "no", "off"];

    /// <summary>Start of the value node at each key path seen.</summary>
    public Dictionary<string, Mark> Positions { get; } = new(StringComparer.Ordinal);

    public ServiceSpecException Error(string path, YamlNode node, string detail) => Error(path, node.Start, detail);

    public ServiceSpecException Error(string path, Mark mark, string detail) =>
        new(path, checked((int)mark.Line), checked((int)mark.Column), detail, sourceName);

    public static string Join(string path, string key) => path.Length == 0 ? key : $"{path}.{key}";

    public static bool IsNull(YamlNode? node) =>
        node is null || (node is YamlScalarNode { Style: ScalarStyle.Plain or ScalarStyle.Any } scalar && NullWords.Contains(scalar.Value ?? ""));

    /// <summary>Reads a mapping whose keys must all be in <paramref name="allowed"/> (SkyPilot's additionalProperties: false).</summary>
    public Fields Map(YamlNode node, string path, IReadOnlyList<string> allowed, IReadOnlyDictionary<string, string>? rejected = null)
    {
        if (node is not YamlMappingNode mapping)
        {
            throw Error(path, node, $"must be a mapping, got {Describe(node)}");
        }

        var values = new Dictionary<string, YamlNode>(StringComparer.Ordinal);
        foreach (var (keyNode, value) in mapping.Children)
        {
            if (keyNode is not YamlScalarNode { Value: { } key })
            {
                throw Error(path, keyNode, "keys must be plain strings");
            }

            var keyPath = Join(path, key);
            if (rejected is not null && rejected.TryGetValue(key, out var reason))
            {
                throw Error(keyPath, keyNode, reason);
            }

            if (!allowed.Contains(key))
            {
                var suggestion = KeySuggestion.Closest(key, allowed);
                var hint = suggestion is not null
                    ? $"did you mean '{suggestion}'?"
                    : $"valid keys here: {string.Join(", ", allowed)}";
                throw Error(keyPath, keyNode, $"unknown key '{key}'; {hint}");
            }

            values[key] = value;
            Positions[keyPath] = value.Start;
        }

        return new Fields(this, path, mapping, values);
    }

    public int Int(YamlNode node, string path)
    {
        var text = PlainScalar(node, path, "an integer");
        if (int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
        {
            return value;
        }

        throw Error(path, node, $"must be an integer, got {Describe(node)}");
    }

    public double Double(YamlNode node, string path)
    {
        var text = PlainScalar(node, path, "a number");
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value))
        {
            return value;
        }

        throw Error(path, node, $"must be a number, got {Describe(node)}");
    }

    public bool Bool(YamlNode node, string path)
    {
        var text = PlainScalar(node, path, "true or false");
        if (TrueWords.Contains(text, StringComparer.OrdinalIgnoreCase))
        {
            return true;
        }

        if (FalseWords.Contains(text, StringComparer.OrdinalIgnoreCase))
        {
            return false;
        }

        throw Error(path, node, $"must be true or false, got {Describe(node)}");
    }

    /// <summary>Any scalar as text: numbers and booleans are coerced, as SkyPilot does for string fields.</summary>
    public string String(YamlNode node, string path) => node is YamlScalarNode { Value: { } value }
        ? value
        : throw Error(path, node, $"must be a string, got {Describe(node)}");

    public IReadOnlyDictionary<string, string> StringMap(YamlNode node, string path)
    {
        if (node is not YamlMappingNode mapping)
        {
            throw Error(path, node, $"must be a mapping, got {Describe(node)}");
        }

        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (keyNode, value) in mapping.Children)
        {
            var key = String(keyNode, path);
            var keyPath = Join(path, key);
            Positions[keyPath] = value.Start;
            if (IsNull(value))
            {
                throw Error(keyPath, value, "has no value; give one (quote it to pass an empty string: \"\")");
            }

            result[key] = String(value, keyPath);
        }

        return result;
    }

    /// <summary>A free-form value: string-keyed maps, lists, and scalars resolved as YAML does (null, bool, long, double, string).</summary>
    public object? Value(YamlNode node, string path)
    {
        switch (node)
        {
            case YamlMappingNode mapping:
                var map = new Dictionary<string, object?>(StringComparer.Ordinal);
                foreach (var (keyNode, value) in mapping.Children)
                {
                    var key = String(keyNode, path);
                    Positions[Join(path, key)] = value.Start;
                    map[key] = Value(value, Join(path, key));
                }

                return map;
            case YamlSequenceNode sequence:
                var list = new List<object?>(sequence.Children.Count);
                for (var i = 0; i < sequence.Children.Count; i++)
                {
                    list.Add(Value(sequence.Children[i], $"{path}[{i}]"));
                }

                return list;
            case YamlScalarNode scalar when scalar.Style is ScalarStyle.Plain or ScalarStyle.Any:
                var text = scalar.Value ?? "";
                if (NullWords.Contains(text))
                {
                    return null;
                }

                if (TrueWords.Contains(text, StringComparer.OrdinalIgnoreCase))
                {
                    return true;
                }

                if (FalseWords.Contains(text, StringComparer.OrdinalIgnoreCase))
                {
                    return false;
                }

                if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer))
                {
                    return integer;
                }

                if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var real) && double.IsFinite(real))
                {
                    return real;
                }

                return text;
            case YamlScalarNode scalar:
                return scalar.Value ?? "";
            default:
                throw Error(path, node, $"unsupported YAML node {Describe(node)}");
        }
    }

    public YamlSequenceNode Sequence(YamlNode node, string path) => node as YamlSequenceNode
        ?? throw Error(path, node, $"must be a list, got {Describe(node)}");

    public static string Describe(YamlNode node) => node switch
    {
        YamlMappingNode => "a mapping",
        YamlSequenceNode => "a list",
        YamlScalarNode { Style: ScalarStyle.Plain or ScalarStyle.Any } scalar when NullWords.Contains(scalar.Value ?? "") => "nothing (null)",
        YamlScalarNode { Style: ScalarStyle.Plain or ScalarStyle.Any } scalar => $"'{scalar.Value}'",
        YamlScalarNode scalar => $"the string '{scalar.Value}'",
        _ => node.NodeType.ToString(),
    };

    /// <summary>Numbers and booleans must be unquoted: a quoted "3" is a string in YAML, and SkyPilot's schema rejects it too.</summary>
    private string PlainScalar(YamlNode node, string path, string expected) =>
        node is YamlScalarNode { Style: ScalarStyle.Plain or ScalarStyle.Any, Value: { } text }
            ? text
            : throw Error(path, node, $"must be {expected}, got {Describe(node)}");

    /// <summary>The checked keys of one mapping, with typed getters that treat a null value as absent.</summary>
    internal sealed class Fields(YamlNodeReader reader, string path, YamlMappingNode mapping, Dictionary<string, YamlNode> values)
    {
        public string Path => path;

        public YamlMappingNode Mapping => mapping;

        public string PathOf(string key) => Join(path, key);

        public bool Has(string key) => values.ContainsKey(key);

        public YamlNode? Node(string key) => values.TryGetValue(key, out var node) && !IsNull(node) ? node : null;

        public int? Int(string key) => Node(key) is { } node ? reader.Int(node, PathOf(key)) : null;

        public double? Double(string key) => Node(key) is { } node ? reader.Double(node, PathOf(key)) : null;

        public bool? Bool(string key) => Node(key) is { } node ? reader.Bool(node, PathOf(key)) : null;

        public string? String(string key) => Node(key) is { } node ? reader.String(node, PathOf(key)) : null;

        public ServiceSpecException Missing(string key) =>
            reader.Error(PathOf(key), mapping, $"is required in {(path.Length == 0 ? "the spec" : path)}");
    }
}
