namespace WrinkleFree.Fuzz.Targets;

/// <summary>Every harness, by name.</summary>
internal static class FuzzTargets
{
    public static IReadOnlyList<FuzzTarget> All { get; } = [new GgufTarget(), new RequestTarget(), new JinjaTarget(), new SpecTarget()];

    public static FuzzTarget? Find(string name) => All.FirstOrDefault(t => t.Name == name);
}
