namespace WrinkleFree.Cli.Export;

/// <summary>A key of the spec that the target tool has no place for, as written (<c>tiers[1]</c>), and why.</summary>
public sealed record UncarriedKey(string Key, string Why)
{
    /// <summary>The line the export's header comment lists it with.</summary>
    public override string ToString() => $"{Key}: {Why}";
}
