using WrinkleFree.Service.Spec;
using WrinkleFree.Testing;

namespace WrinkleFree.Service.Tests.Hostile;

/// <summary>
/// Inputs the spec fuzzer found crashing the parser (kept as regress-* seeds in the fuzz corpus): YamlDotNet threw
/// InvalidOperationException and ArgumentException rather than YamlException. Each is now a spec error.
/// </summary>
public sealed class SpecHostileInputTests
{
    public static TheoryData<string> Inputs => new()
    {
        "regress-yaml-scanner-state.yaml",
        "regress-yaml-unsupported-event.yaml",
    };

    [Theory]
    [MemberData(nameof(Inputs))]
    public void Parse_InputThatCrashedYamlDotNet_ServiceSpecException(string file)
    {
        var yaml = File.ReadAllText(Path.Combine(RepositoryPaths.Root, "bench", "WrinkleFree.Fuzz", "corpus", "spec", file));

        var error = Assert.Throws<ServiceSpecException>(() => ServiceSpecParser.Parse(yaml, file));

        Assert.Contains("YAML syntax error", error.Message, StringComparison.Ordinal);
    }
}
