namespace WrinkleFree.Jobs;

/// <summary>Our <c>train:</c> section: the stage and its settings, which become <c>wf train STAGE --key value</c> options.</summary>
public sealed record TrainSpec
{
    /// <summary>The stages <c>wf train</c> has.</summary>
    public static readonly IReadOnlyList<string> Stages = ["teacher", "stage1", "stage1.9", "stage2", "stage3", "export"];

    /// <summary>One of <see cref="Stages"/>.</summary>
    public required string Stage { get; init; }

    /// <summary>Settings in YAML order, as (option name without dashes, value) pairs; a list value repeats the option.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Settings { get; init; } = [];
}
