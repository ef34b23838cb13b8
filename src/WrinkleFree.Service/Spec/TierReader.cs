using WrinkleFree.Platform.Specs;
using YamlDotNet.RepresentationModel;

namespace WrinkleFree.Service.Spec;

/// <summary>Reads our <c>tiers:</c> list.</summary>
internal static class TierReader
{
    private static readonly string[] Keys = ["name", "provider", "capacity", "cost_per_hour", "spot", "scale_to_zero", "settings"];

    /// <summary>Provider spellings in the YAML, in <see cref="TierProvider"/> order.</summary>
    internal static readonly IReadOnlyList<(string Name, TierProvider Provider)> ProviderNames =
    [
        ("local", TierProvider.Local),
        ("ssh", TierProvider.Ssh),
        ("kubernetes", TierProvider.Kubernetes),
        ("cloud", TierProvider.Cloud),
    ];

    public const string Unlimited = "unlimited";

    public static List<TierSpec> ReadAll(YamlNode node, string path, YamlNodeReader reader)
    {
        var sequence = reader.Sequence(node, path);
        var tiers = new List<TierSpec>(sequence.Children.Count);
        for (var i = 0; i < sequence.Children.Count; i++)
        {
            tiers.Add(Read(sequence.Children[i], $"{path}[{i}]", reader));
        }

        return tiers;
    }

    private static TierSpec Read(YamlNode node, string path, YamlNodeReader reader)
    {
        var fields = reader.Map(node, path, Keys);
        var providerText = fields.String("provider") ?? throw fields.Missing("provider");
        var provider = ProviderNames.FirstOrDefault(p => p.Name == providerText);
        if (provider.Name is null)
        {
            var names = ProviderNames.Select(p => p.Name).ToArray();
            var suggestion = KeySuggestion.Closest(providerText, names);
            throw reader.Error(fields.PathOf("provider"), fields.Node("provider")!,
                $"unknown provider '{providerText}'; valid providers: {string.Join(", ", names)}"
                + (suggestion is null ? "" : $" (did you mean '{suggestion}'?)"));
        }

        return new TierSpec
        {
            Name = fields.String("name") ?? throw fields.Missing("name"),
            Provider = provider.Provider,
            Capacity = ReadCapacity(fields, reader),
            CostPerHour = fields.Double("cost_per_hour") ?? 0,
            Spot = fields.Bool("spot") ?? false,
            ScaleToZero = fields.Bool("scale_to_zero") ?? false,
            Settings = fields.Node("settings") is { } settings ? ReadSettings(settings, fields.PathOf("settings"), reader) : new Dictionary<string, object?>(),
        };
    }

    private static int ReadCapacity(YamlNodeReader.Fields fields, YamlNodeReader reader)
    {
        if (fields.Node("capacity") is not { } node)
        {
            return TierSpec.UnlimitedCapacity;
        }

        if (node is YamlScalarNode { Value: Unlimited })
        {
            return TierSpec.UnlimitedCapacity;
        }

        if (node is YamlScalarNode scalar && !int.TryParse(scalar.Value, out _))
        {
            throw reader.Error(fields.PathOf("capacity"), node, $"must be a replica count or '{Unlimited}', got {YamlNodeReader.Describe(node)}");
        }

        return reader.Int(node, fields.PathOf("capacity"));
    }

    private static Dictionary<string, object?> ReadSettings(YamlNode node, string path, YamlNodeReader reader) =>
        node is YamlMappingNode
            ? (Dictionary<string, object?>)reader.Value(node, path)!
            : throw reader.Error(path, node, $"must be a mapping of provider settings, got {YamlNodeReader.Describe(node)}");
}
