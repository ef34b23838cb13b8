using System.Collections;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace WrinkleFree.Cli.Export;

/// <summary>
/// Builds YAML nodes for SkyPilot's reader (PyYAML, YAML 1.1) and writes them under a comment header. A string is written
/// plain only where PyYAML reads it back as that same string; anything it could take for a number, boolean, null or date
/// (<c>4096</c>, <c>true</c>, <c>16+</c> is safe but quoted anyway by the number rule) is double-quoted, so an env value
/// stays a string as SkyPilot's schema requires.
/// </summary>
internal static partial class SkyPilotYaml
{
    public static YamlScalarNode Str(string value) => new(value)
    {
        Style = value.Contains('\n', StringComparison.Ordinal) ? ScalarStyle.Literal
            : NeedsQuotes(value) ? ScalarStyle.DoubleQuoted : ScalarStyle.Plain,
    };

    public static YamlScalarNode Int(long value) => new(value.ToString(CultureInfo.InvariantCulture)) { Style = ScalarStyle.Plain };

    public static YamlScalarNode Num(double value) => new(value.ToString("R", CultureInfo.InvariantCulture)) { Style = ScalarStyle.Plain };

    public static YamlScalarNode Bool(bool value) => new(value ? "true" : "false") { Style = ScalarStyle.Plain };

    /// <summary>A parsed YAML value (string, number, bool, map, list, null) as a node, keeping its type.</summary>
    public static YamlNode Value(object? value) => value switch
    {
        null => new YamlScalarNode("null") { Style = ScalarStyle.Plain },
        string s => Str(s),
        bool b => Bool(b),
        int or long => Int(Convert.ToInt64(value, CultureInfo.InvariantCulture)),
        double or float or decimal => Num(Convert.ToDouble(value, CultureInfo.InvariantCulture)),
        IDictionary map => Map(map),
        IEnumerable list => new YamlSequenceNode(list.Cast<object?>().Select(Value)),
        _ => Str(Convert.ToString(value, CultureInfo.InvariantCulture) ?? ""),
    };

    /// <summary>Writes <paramref name="root"/> after <paramref name="comments"/> (each a line, written as <c># line</c>).</summary>
    public static string Render(IEnumerable<string> comments, YamlMappingNode root)
    {
        var text = new StringBuilder();
        foreach (var line in comments)
            text.Append(line.Length == 0 ? "#" : "# " + line).Append('\n');
        using var writer = new StringWriter(CultureInfo.InvariantCulture);
        new YamlStream(new YamlDocument(root)).Save(writer, assignAnchors: false);
        var body = writer.ToString().Replace("\r\n", "\n", StringComparison.Ordinal);
        // YamlStream ends each document with an explicit "..." marker; one document in a file needs none.
        if (body.EndsWith("...\n", StringComparison.Ordinal))
            body = body[..^4];
        return text.Append(body).ToString();
    }

    private static YamlMappingNode Map(IDictionary map)
    {
        var node = new YamlMappingNode();
        foreach (DictionaryEntry entry in map)
            node.Add(Str(Convert.ToString(entry.Key, CultureInfo.InvariantCulture) ?? ""), Value(entry.Value));
        return node;
    }

    private static bool NeedsQuotes(string value) =>
        value.Length == 0 || value != value.Trim() || Reserved().IsMatch(value) || NumberLike().IsMatch(value) || DateLike().IsMatch(value);

    [GeneratedRegex("^(~|null|Null|NULL|y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF|[-+]?\\.(inf|Inf|INF)|\\.(nan|NaN|NAN))$")]
    private static partial Regex Reserved();

    // Integers and floats in YAML 1.1's forms: decimal, octal, hex, binary, base 60 (1:20), with '_' separators.
    [GeneratedRegex("^[-+]?(\\.[0-9]|[0-9])[0-9_:.eE+-]*$|^[-+]?0[xob][0-9a-fA-F_]+$")]
    private static partial Regex NumberLike();

    [GeneratedRegex("^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}")]
    private static partial Regex DateLike();
}
