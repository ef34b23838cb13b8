using System.Text.RegularExpressions;
using WrinkleFree.Platform.Specs;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace WrinkleFree.Service.Spec;

/// <summary>
/// Reads a SkyPilot-style service YAML (plus our <c>tiers:</c>) into a validated <see cref="ServiceSpec"/>. Every error is a
/// <see cref="ServiceSpecException"/> naming the key path, line and column.
/// </summary>
public static partial class ServiceSpecParser
{
    private static readonly string[] RootKeys =
    [
        "name", "service", "resources", "envs", "setup", "run", "file_mounts", "workdir", "num_nodes", "tiers", "replica_policy",
    ];

    private const string ServicePolicyPath = "service.replica_policy";

    /// <summary>Parses and validates <paramref name="yaml"/>; <paramref name="sourceName"/> (a file name) prefixes error messages.</summary>
    public static ServiceSpec Parse(string yaml, string? sourceName = null) => Parse(yaml, sourceName, null);

    /// <summary>
    /// Parses and validates <paramref name="yaml"/>, then runs <paramref name="check"/> on the spec, giving it the key path
    /// as written of each rule's key path; a <see cref="ServiceSpecException"/> without a position from either gets the
    /// line and column of its key path.
    /// </summary>
    internal static ServiceSpec Parse(string yaml, string? sourceName, Action<ServiceSpec, Func<string, string>>? check)
    {
        ArgumentNullException.ThrowIfNull(yaml);
        var reader = new YamlNodeReader(sourceName);
        var root = Load(yaml, reader);
        var spec = ReadSpec(root, reader, out var topLevelPolicy);

        // Rules name the policy where the spec keeps it; a policy written at the top level is reported where it was written.
        string AsWritten(string keyPath) => topLevelPolicy && keyPath.StartsWith(ServicePolicyPath, StringComparison.Ordinal)
            ? keyPath["service.".Length..]
            : keyPath;

        try
        {
            spec.Validate();
            check?.Invoke(spec, AsWritten);
        }
        catch (ServiceSpecException error) when (error.Line == 0)
        {
            var keyPath = AsWritten(error.KeyPath);
            var mark = FindPosition(reader, keyPath) ?? root.Start;
            throw reader.Error(keyPath, mark, error.Detail);
        }

        return spec;
    }

    /// <summary>Reads and parses the file at <paramref name="path"/>; errors name the file.</summary>
    public static ServiceSpec ParseFile(string path) => Parse(File.ReadAllText(path), path);

    private static YamlNode Load(string yaml, YamlNodeReader reader)
    {
        var stream = new YamlStream();
        try
        {
            // Bounded before loading: the node tree is built and read recursively (see YamlLimits).
            YamlLimits.Check(yaml);
            stream.Load(new StringReader(yaml));
        }
        catch (YamlLimitException error)
        {
            throw reader.Error("", error.Start, error.Detail);
        }
        catch (YamlException error)
        {
            throw reader.Error("", error.Start, $"YAML syntax error: {StripPosition(error.Message)}");
        }
        catch (Exception error) when (error is InvalidOperationException or ArgumentException)
        {
            // YamlDotNet's scanner and node loader throw these, not YamlException, on some malformed documents (found by
            // bench/WrinkleFree.Fuzz): they are still a syntax error in the file, not a crash.
            throw reader.Error("", Mark.Empty, "YAML syntax error: the document is malformed (check the indentation, brackets and quotes)");
        }

        if (stream.Documents.Count == 0 || YamlNodeReader.IsNull(stream.Documents[0].RootNode))
        {
            throw reader.Error("", Mark.Empty, "the spec is empty");
        }

        if (stream.Documents.Count > 1)
        {
            throw reader.Error("", stream.Documents[1].RootNode.Start, "a service spec is one YAML document; found a second one");
        }

        return stream.Documents[0].RootNode;
    }

    private static ServiceSpec ReadSpec(YamlNode root, YamlNodeReader reader, out bool topLevelPolicy)
    {
        var fields = reader.Map(root, "", RootKeys);
        topLevelPolicy = false;
        if (fields.Int("num_nodes") is { } nodes && nodes != 1)
        {
            throw reader.Error("num_nodes", fields.Node("num_nodes")!, $"a service replica runs on one node; num_nodes must be 1, got {nodes}");
        }

        var spec = new ServiceSpec
        {
            Name = fields.String("name"),
            Setup = fields.String("setup"),
            Run = fields.String("run"),
            Workdir = fields.String("workdir"),
        };

        if (fields.Node("service") is { } service)
        {
            spec = spec with { Service = ServiceSectionReader.Read(service, "service", reader) };
        }

        // SkyPilot also accepts replica_policy at the top level of a service YAML (the design's spot pattern writes it there).
        if (fields.Node("replica_policy") is { } topPolicy)
        {
            if (fields.Node("service") is YamlMappingNode section
                && section.Children.Keys.OfType<YamlScalarNode>().FirstOrDefault(k => k.Value is "replica_policy" or "replicas") is { } inService)
            {
                throw reader.Error("replica_policy", fields.Mapping.Children.Keys.First(k => k is YamlScalarNode { Value: "replica_policy" }),
                    $"is also given as service.{inService.Value} (line {inService.Start.Line}); give the replica policy in one place");
            }

            topLevelPolicy = true;
            spec = spec with { Service = spec.Service with { ReplicaPolicy = ServiceSectionReader.ReadPolicy(topPolicy, "replica_policy", reader) } };
        }

        if (fields.Node("resources") is { } resources)
        {
            spec = spec with { Resources = ResourcesReader.Read(resources, "resources", reader) };
        }

        if (fields.Node("envs") is { } envs)
        {
            spec = spec with { Envs = reader.StringMap(envs, "envs") };
        }

        if (fields.Node("file_mounts") is { } mounts)
        {
            if (mounts is not YamlMappingNode)
            {
                throw reader.Error("file_mounts", mounts, $"must be a mapping of destination to source, got {YamlNodeReader.Describe(mounts)}");
            }

            spec = spec with { FileMounts = (Dictionary<string, object?>)reader.Value(mounts, "file_mounts")! };
        }

        if (fields.Node("tiers") is { } tiers)
        {
            spec = spec with { Tiers = TierReader.ReadAll(tiers, "tiers", reader) };
        }

        return spec;
    }

    /// <summary>The recorded position of the key path, or of its nearest ancestor that was written in the YAML.</summary>
    private static Mark? FindPosition(YamlNodeReader reader, string keyPath)
    {
        var path = keyPath;
        while (path.Length > 0)
        {
            if (reader.Positions.TryGetValue(path, out var mark))
            {
                return mark;
            }

            var cut = Math.Max(path.LastIndexOf('.'), path.LastIndexOf('['));
            path = cut > 0 ? path[..cut] : "";
        }

        return null;
    }

    private static string StripPosition(string message) => YamlPositionPrefix().Replace(message, "");

    // YamlDotNet prefixes its messages with "(Line: 3, Col: 5, Idx: 20) - (Line: 3, Col: 6, Idx: 21): "; we report our own.
    [GeneratedRegex(@"^\(Line: \d+, Col: \d+, Idx: \d+\) - \(Line: \d+, Col: \d+, Idx: \d+\): ")]
    private static partial Regex YamlPositionPrefix();
}
