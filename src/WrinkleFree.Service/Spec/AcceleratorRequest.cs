namespace WrinkleFree.Service.Spec;

/// <summary>One acceptable accelerator choice, e.g. <c>A100:8</c>; several requests mean "any of these".</summary>
public sealed record AcceleratorRequest(string Name, double Count)
{
    /// <summary>SkyPilot's spelling: <c>A100:8</c>, or just the name for a count of one.</summary>
    public override string ToString() => Count == 1
        ? Name
        : string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{Name}:{Count}");
}
