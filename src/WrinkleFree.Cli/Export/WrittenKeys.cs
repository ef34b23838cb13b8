using WrinkleFree.Platform.Specs;
using YamlDotNet.RepresentationModel;

namespace WrinkleFree.Cli.Export;

/// <summary>
/// The key paths a spec file actually wrote (<c>service.replica_policy.min_replicas</c>, <c>tiers[1].settings.pool</c>) with
/// their positions. The parsed spec fills defaults in; an export must tell what the author wrote from what was defaulted, to
/// list each key it cannot carry and to point its errors at the line. Read after the spec parser accepted the text.
/// </summary>
public sealed class WrittenKeys
{
    private readonly Dictionary<string, (int Line, int Column)> _positions = new(StringComparer.Ordinal);
    private readonly string? _source;

    private WrittenKeys(string? source) => _source = source;

    /// <summary>The root mapping of the document, for exports that copy parts of it as written.</summary>
    public YamlMappingNode? Root { get; private set; }

    /// <summary>Reads <paramref name="yaml"/> (already accepted by a spec parser); <paramref name="source"/> names it in errors.</summary>
    public static WrittenKeys Read(string yaml, string? source)
    {
        ArgumentNullException.ThrowIfNull(yaml);
        var keys = new WrittenKeys(source);
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        if (stream.Documents.Count > 0 && stream.Documents[0].RootNode is YamlMappingNode root)
        {
            keys.Root = root;
            keys.Walk(root, "");
        }

        return keys;
    }

    /// <summary>Whether the file wrote <paramref name="path"/> (a key, or a list item such as <c>tiers[0]</c>).</summary>
    public bool Has(string path) => _positions.ContainsKey(path);

    /// <summary>An error naming <paramref name="path"/> with its line and column when the file wrote it, as spec errors read.</summary>
    public ExportException Error(string path, string detail)
    {
        var (line, column) = _positions.TryGetValue(path, out var at) ? at : (0, 0);
        return new ExportException(SpecErrorText.Format(path, line, column, detail, _source, "spec"));
    }

    private void Walk(YamlNode node, string path)
    {
        switch (node)
        {
            case YamlMappingNode map:
                foreach (var (key, value) in map.Children)
                {
                    if (key is not YamlScalarNode { Value: { } name })
                    {
                        continue;
                    }

                    var child = path.Length == 0 ? name : $"{path}.{name}";
                    _positions[child] = (checked((int)key.Start.Line), checked((int)key.Start.Column));
                    Walk(value, child);
                }

                break;
            case YamlSequenceNode list:
                for (var i = 0; i < list.Children.Count; i++)
                {
                    var child = $"{path}[{i}]";
                    _positions[child] = (checked((int)list.Children[i].Start.Line), checked((int)list.Children[i].Start.Column));
                    Walk(list.Children[i], child);
                }

                break;
        }
    }
}
