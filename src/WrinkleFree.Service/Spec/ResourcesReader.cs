using System.Globalization;
using YamlDotNet.RepresentationModel;

namespace WrinkleFree.Service.Spec;

/// <summary>Reads SkyPilot's <c>resources:</c> section (and its <c>any_of</c> / <c>ordered</c> alternatives).</summary>
internal static class ResourcesReader
{
    private static readonly string[] Keys =
    [
        "infra", "cloud", "region", "zone", "cpus", "memory", "accelerators", "instance_type", "use_spot", "job_recovery",
        "spot_recovery", "disk_size", "disk_tier", "ports", "image_id", "labels", "any_of", "ordered",
    ];

    private static readonly string[] JobRecoveryKeys = ["strategy", "max_restarts_on_errors"];

    public static ResourcesSpec Read(YamlNode node, string path, YamlNodeReader reader)
    {
        var fields = reader.Map(node, path, Keys);
        return new ResourcesSpec
        {
            Infra = fields.String("infra"),
            Cloud = fields.String("cloud"),
            Region = fields.String("region"),
            Zone = fields.String("zone"),
            Cpus = fields.String("cpus"),
            Memory = fields.String("memory"),
            Accelerators = fields.Node("accelerators") is { } accelerators ? ReadAccelerators(accelerators, fields.PathOf("accelerators"), reader) : [],
            InstanceType = fields.String("instance_type"),
            UseSpot = fields.Bool("use_spot"),
            JobRecovery = ReadRecovery(fields, reader),
            DiskSize = fields.Int("disk_size"),
            DiskTier = fields.String("disk_tier"),
            Ports = fields.Node("ports") is { } ports ? ReadPorts(ports, fields.PathOf("ports"), reader) : [],
            ImageId = fields.String("image_id"),
            Labels = fields.Node("labels") is { } labels ? reader.StringMap(labels, fields.PathOf("labels")) : new Dictionary<string, string>(),
            AnyOf = fields.Node("any_of") is { } anyOf ? ReadAlternatives(anyOf, fields.PathOf("any_of"), reader) : [],
            Ordered = fields.Node("ordered") is { } ordered ? ReadAlternatives(ordered, fields.PathOf("ordered"), reader) : [],
        };
    }

    /// <summary>
    /// <c>job_recovery</c>, or <c>spot_recovery</c>, the older name SkyPilot's design documents still write (the same
    /// values: a strategy, or a mapping with one); giving both is an error.
    /// </summary>
    private static JobRecoverySpec? ReadRecovery(YamlNodeReader.Fields fields, YamlNodeReader reader)
    {
        var recovery = fields.Node("job_recovery");
        var spot = fields.Node("spot_recovery");
        if (recovery is not null && spot is not null)
        {
            throw reader.Error(fields.PathOf("spot_recovery"), spot,
                $"cannot be combined with job_recovery (line {recovery.Start.Line}): spot_recovery is SkyPilot's older name for it; keep one");
        }

        return recovery is not null ? ReadJobRecovery(recovery, fields.PathOf("job_recovery"), reader)
            : spot is not null ? ReadJobRecovery(spot, fields.PathOf("spot_recovery"), reader)
            : null;
    }

    private static List<ResourcesSpec> ReadAlternatives(YamlNode node, string path, YamlNodeReader reader)
    {
        var sequence = reader.Sequence(node, path);
        var result = new List<ResourcesSpec>(sequence.Children.Count);
        for (var i = 0; i < sequence.Children.Count; i++)
        {
            result.Add(Read(sequence.Children[i], $"{path}[{i}]", reader));
        }

        return result;
    }

    private static JobRecoverySpec ReadJobRecovery(YamlNode node, string path, YamlNodeReader reader)
    {
        if (node is YamlScalarNode)
        {
            return new JobRecoverySpec { Strategy = Strategy(node, path, reader) };
        }

        var fields = reader.Map(node, path, JobRecoveryKeys);
        return new JobRecoverySpec
        {
            Strategy = fields.Node("strategy") is { } strategy ? Strategy(strategy, fields.PathOf("strategy"), reader) : null,
            MaxRestartsOnErrors = fields.Int("max_restarts_on_errors") ?? 0,
        };
    }

    // Checked here, where the key written (job_recovery or spot_recovery) and its position are known.
    private static string Strategy(YamlNode node, string path, YamlNodeReader reader)
    {
        var strategy = reader.String(node, path);
        return JobRecoverySpec.Strategies.Contains(strategy)
            ? strategy
            : throw reader.Error(path, node, $"must be one of {string.Join(", ", JobRecoverySpec.Strategies)}, got '{strategy}'");
    }

    /// <summary><c>A100:8</c>, <c>A100</c>, a list of those, or a map of name to count.</summary>
    private static List<AcceleratorRequest> ReadAccelerators(YamlNode node, string path, YamlNodeReader reader)
    {
        var result = new List<AcceleratorRequest>();
        switch (node)
        {
            case YamlMappingNode mapping:
                foreach (var (key, value) in mapping.Children)
                {
                    var name = reader.String(key, path);
                    var count = YamlNodeReader.IsNull(value) ? 1 : reader.Double(value, YamlNodeReader.Join(path, name));
                    result.Add(new AcceleratorRequest(name, count));
                }

                break;
            case YamlSequenceNode sequence:
                for (var i = 0; i < sequence.Children.Count; i++)
                {
                    result.Add(ParseAccelerator(sequence.Children[i], $"{path}[{i}]", reader));
                }

                break;
            default:
                result.Add(ParseAccelerator(node, path, reader));
                break;
        }

        return result;
    }

    private static AcceleratorRequest ParseAccelerator(YamlNode node, string path, YamlNodeReader reader)
    {
        var text = reader.String(node, path);
        var colon = text.LastIndexOf(':');
        if (colon < 0)
        {
            return new AcceleratorRequest(text, 1);
        }

        if (!double.TryParse(text.AsSpan(colon + 1), NumberStyles.Float, CultureInfo.InvariantCulture, out var count))
        {
            throw reader.Error(path, node, $"must be NAME or NAME:COUNT, got '{text}'");
        }

        return new AcceleratorRequest(text[..colon], count);
    }

    /// <summary><c>8080</c>, <c>"10000-10100"</c>, or a list of those.</summary>
    private static List<PortRange> ReadPorts(YamlNode node, string path, YamlNodeReader reader)
    {
        if (node is YamlSequenceNode sequence)
        {
            var result = new List<PortRange>(sequence.Children.Count);
            for (var i = 0; i < sequence.Children.Count; i++)
            {
                result.Add(ParsePort(sequence.Children[i], $"{path}[{i}]", reader));
            }

            return result;
        }

        return [ParsePort(node, path, reader)];
    }

    private static PortRange ParsePort(YamlNode node, string path, YamlNodeReader reader)
    {
        var text = reader.String(node, path);
        // The dash search starts after the first character so "-5" reads as a (bad) negative port, not a range.
        var dash = text.Length > 1 ? text.IndexOf('-', 1) : -1;
        var first = dash < 0 ? text : text[..dash];
        var last = dash < 0 ? text : text[(dash + 1)..];
        if (!int.TryParse(first, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var start)
            || !int.TryParse(last, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var end))
        {
            throw reader.Error(path, node, $"must be a port or a range like 10000-10100, got '{text}'");
        }

        if (start is < 1 or > 65535 || end is < 1 or > 65535 || end < start)
        {
            throw reader.Error(path, node, $"must be a port between 1 and 65535 (or a range of them), got '{text}'");
        }

        return new PortRange(start, end);
    }
}
