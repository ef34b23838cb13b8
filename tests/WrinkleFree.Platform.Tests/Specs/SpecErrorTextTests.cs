using WrinkleFree.Platform.Specs;

namespace WrinkleFree.Platform.Tests.Specs;

public sealed class SpecErrorTextTests
{
    [Theory]
    [InlineData("service.replicas", 3, 5, "task.yaml", "task.yaml: service.replicas (line 3, column 5): bad")]
    [InlineData("service.replicas", 0, 0, null, "service.replicas: bad")]
    [InlineData("", 7, 1, null, "line 7, column 1: bad")]
    [InlineData("", 0, 0, "s.yaml", "s.yaml: the spec: bad")]
    public void Format_LeavesOutWhatIsUnknown(string key, int line, int column, string? source, string expected) =>
        Assert.Equal(expected, SpecErrorText.Format(key, line, column, "bad", source, "the spec"));

    [Fact]
    public void Closest_WithinTwoEdits_Suggests() =>
        Assert.Equal("replica_policy", KeySuggestion.Closest("replica_polcy", ["readiness_probe", "replica_policy"]));

    [Fact]
    public void Closest_TooFar_IsNull() => Assert.Null(KeySuggestion.Closest("zzz", ["replica_policy"]));
}
