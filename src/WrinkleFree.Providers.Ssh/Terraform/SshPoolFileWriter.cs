using System.Text;
using WrinkleFree.Platform.Files;
using WrinkleFree.Platform.Home;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

namespace WrinkleFree.Providers.Ssh.Terraform;

/// <summary>
/// Merges one pool into <c>ssh_node_pools.yaml</c>: adds it, or replaces it when asked, and leaves every other pool as it
/// was. The pool's block is spliced into the text, so other pools keep their comments and formatting byte for byte; the
/// result is parsed back and every other pool compared, and only where that check fails (flow-style files, document
/// markers, anchors shared across pools) is the file re-serialized instead, with a note that comments were lost.
/// </summary>
public static class SshPoolFileWriter
{
    /// <summary>Merges <paramref name="pool"/> into the file at <paramref name="path"/> and writes it atomically (0600).</summary>
    /// <param name="dryRun">Compute the result without touching the file.</param>
    /// <exception cref="SshPoolFileException">The file does not parse, or the pool exists and <paramref name="replace"/> is false.</exception>
    public static SshPoolFileMerge Write(string path, ImportedSshPool pool, bool replace, bool dryRun = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var existing = File.Exists(path) ? File.ReadAllText(path) : null;
        var merge = Merge(existing, pool, replace, path);
        if (dryRun)
            return merge;
        // The file names private keys and may hold passwords: owner-only, like everything under the WF home.
        AtomicFile.WriteAllText(path, merge.Text, WfHome.PrivateFileMode);
        return merge with { Written = true };
    }

    /// <summary>Merges <paramref name="pool"/> into <paramref name="existing"/> (null: no file yet); <paramref name="path"/> names it in errors.</summary>
    /// <exception cref="SshPoolFileException">The text does not parse, or the pool exists and <paramref name="replace"/> is false.</exception>
    public static SshPoolFileMerge Merge(string? existing, ImportedSshPool pool, bool replace, string path)
    {
        ArgumentNullException.ThrowIfNull(pool);
        var block = pool.ToYaml();
        var blockNode = (YamlMappingNode)Load(block, "the generated pool")!;
        var poolValue = blockNode.Children.Single().Value;
        var root = existing is null ? null : Load(existing, path);
        if (root is null)
        {
            // No file, or only comments: the pool is the whole content, after whatever comments were there.
            var prefix = string.IsNullOrWhiteSpace(existing) ? "" : existing.TrimEnd() + "\n\n";
            return new SshPoolFileMerge
            {
                Text = prefix + block,
                Replaced = false,
                KeptOtherPoolsVerbatim = true,
                OtherPools = [],
                Notes = [],
            };
        }

        if (root is not YamlMappingNode pools)
            throw new SshPoolFileException($"{path}: line {root.Start.Line}: the top level is not a map of pool name → pool; fix the file or write to another with --file");

        var key = new YamlScalarNode(pool.Name);
        var exists = pools.Children.ContainsKey(key);
        var others = pools.Children.Keys.Where(k => !k.Equals(key)).Select(Name).ToList();
        if (exists && !replace)
        {
            var hosts = pools.Children[key] is YamlMappingNode m && m.Children.TryGetValue(new YamlScalarNode("hosts"), out var h) && h is YamlSequenceNode s ? s.Children.Count : 0;
            throw new SshPoolFileException(
                $"{path}: pool '{pool.Name}' already exists ({hosts} host{(hosts == 1 ? "" : "s")}); pass --replace to overwrite it, or choose another --pool");
        }

        var expected = pools.Children.Where(p => !p.Key.Equals(key)).ToDictionary(p => Name(p.Key), p => Canonical(p.Value));
        if (Splice(existing!, pools, key, exists, block) is { } spliced && Matches(spliced, expected, pool.Name, Canonical(poolValue), path))
        {
            return new SshPoolFileMerge { Text = spliced, Replaced = exists, KeptOtherPoolsVerbatim = true, OtherPools = others, Notes = [] };
        }

        pools.Children[key] = poolValue;
        var stream = new YamlStream(new YamlDocument(pools));
        using var writer = new StringWriter();
        stream.Save(writer, assignAnchors: false);
        var text = writer.ToString();
        if (!Matches(text, expected, pool.Name, Canonical(poolValue), path))
            throw new SshPoolFileException($"{path}: could not merge pool '{pool.Name}' without changing the other pools; add the printed block by hand");
        return new SshPoolFileMerge
        {
            Text = text,
            Replaced = exists,
            KeptOtherPoolsVerbatim = false,
            OtherPools = others,
            Notes = [$"{path} was rewritten as a whole (its layout could not be edited in place): comments and formatting in the other pools were not kept, their content was"],
        };
    }

    /// <summary>
    /// The text with the pool's block in place of the old one (or appended); null where the file is not a block-style
    /// map whose keys start at column 1, the only layout where lines can be cut safely.
    /// </summary>
    private static string? Splice(string text, YamlMappingNode pools, YamlScalarNode key, bool exists, string block)
    {
        if (pools.Style == MappingStyle.Flow || pools.Children.Keys.Any(k => k.Start.Column != 1))
            return null;
        if (!exists)
        {
            var body = text.TrimEnd();
            return body.Length == 0 ? block : body + "\n\n" + block;
        }

        var lines = SplitLines(text);
        var keys = pools.Children.Keys.ToList();
        var at = keys.FindIndex(k => k.Equals(key));
        var start = (int)keys[at].Start.Line - 1;
        var next = at + 1 < keys.Count ? (int)keys[at + 1].Start.Line - 1 : lines.Count;
        // The block ends at its last line of content; comments at column 0 and blank lines after it belong to what follows.
        var end = next - 1;
        while (end > start && !IsContent(lines[end]))
            end--;
        var result = new StringBuilder();
        for (var i = 0; i < start; i++)
            result.Append(lines[i]);
        result.Append(block);
        for (var i = end + 1; i < lines.Count; i++)
            result.Append(lines[i]);
        return result.ToString();
    }

    private static bool IsContent(string line)
    {
        var trimmed = line.TrimEnd('\r', '\n');
        if (trimmed.Trim().Length == 0 || trimmed.StartsWith('#'))
            return false;
        return !trimmed.StartsWith("...", StringComparison.Ordinal) && !trimmed.StartsWith("---", StringComparison.Ordinal);
    }

    /// <summary>Lines with their line endings, so that joining them gives the text back byte for byte.</summary>
    private static List<string> SplitLines(string text)
    {
        var lines = new List<string>();
        var from = 0;
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '\n')
            {
                lines.Add(text[from..(i + 1)]);
                from = i + 1;
            }
        }

        if (from < text.Length)
            lines.Add(text[from..]);
        return lines;
    }

    /// <summary>Whether <paramref name="text"/> holds exactly the other pools as before plus the new pool.</summary>
    private static bool Matches(string text, Dictionary<string, string> others, string name, string pool, string path)
    {
        YamlNode? root;
        try
        {
            root = Load(text, path);
        }
        catch (SshPoolFileException)
        {
            return false;
        }

        if (root is not YamlMappingNode map || map.Children.Count != others.Count + 1)
            return false;
        foreach (var (k, v) in map.Children)
        {
            var keyName = Name(k);
            var ok = keyName == name ? Canonical(v) == pool : others.TryGetValue(keyName, out var before) && before == Canonical(v);
            if (!ok)
                return false;
        }

        return true;
    }

    /// <summary>The document's root node; null for an empty file or one of only comments.</summary>
    private static YamlNode? Load(string text, string path)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException e)
        {
            throw new SshPoolFileException($"{path}: line {e.Start.Line}, column {e.Start.Column}: {e.InnerException?.Message ?? e.Message}; fix the file or write to another with --file", e);
        }

        if (stream.Documents.Count > 1)
            throw new SshPoolFileException($"{path}: {stream.Documents.Count} YAML documents; a pool file is one map of pool name → pool");
        if (stream.Documents.Count == 0)
            return null;
        var root = stream.Documents[0].RootNode;
        return root is YamlScalarNode { Value: null or "" } ? null : root;
    }

    private static string Name(YamlNode key) => key is YamlScalarNode { Value: { } v } ? v : key.ToString();

    /// <summary>A node's content as one string, aliases resolved, for comparing pools before and after.</summary>
    private static string Canonical(YamlNode node) => node switch
    {
        YamlScalarNode s => $"{s.Tag}'{s.Value?.Replace("'", "''", StringComparison.Ordinal)}'",
        YamlSequenceNode seq => "[" + string.Join(",", seq.Children.Select(Canonical)) + "]",
        YamlMappingNode map => "{" + string.Join(",", map.Children.Select(p => Canonical(p.Key) + ":" + Canonical(p.Value))) + "}",
        _ => node.ToString(),
    };
}
