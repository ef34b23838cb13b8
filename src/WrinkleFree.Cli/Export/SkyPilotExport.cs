namespace WrinkleFree.Cli.Export;

/// <summary>
/// What <c>wf export skypilot</c> produced: the main YAML (a SkyServe service or a managed-job task), the SSH node pools
/// its ssh tiers use, the keys SkyPilot cannot take, and notes for the reader.
/// </summary>
public sealed record SkyPilotExport
{
    /// <summary>What the main file is for: <c>sky serve up</c> or <c>sky jobs launch</c>.</summary>
    public required SkyPilotKind Kind { get; init; }

    /// <summary>The name the file launches under (service or job).</summary>
    public required string Name { get; init; }

    /// <summary>The main YAML, with its header comment.</summary>
    public required string Yaml { get; init; }

    /// <summary>The pool names of the spec's ssh tiers, in tier order, without repeats; empty for a task.</summary>
    public IReadOnlyList<string> Pools { get; init; } = [];

    /// <summary>Keys of the spec with no SkyPilot equivalent (also listed in the YAML's header).</summary>
    public IReadOnlyList<UncarriedKey> Uncarried { get; init; } = [];

    /// <summary>What the reader should know that is not a dropped key (a default taken, a key renamed).</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];

    /// <summary>The main file's name under <c>--out DIR</c>.</summary>
    public string FileName => Kind == SkyPilotKind.Service ? "service.yaml" : "task.yaml";
}
