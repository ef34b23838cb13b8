namespace WrinkleFree.Service.Cost;

/// <summary>
/// <c>wf cost</c>'s answer: replica-hours, dollars, tokens and dollars per million tokens in [<see cref="Since"/>,
/// <see cref="Until"/>], per service and tier, with sums per service, per tier and overall.
/// </summary>
public sealed record CostReport
{
    public required DateTimeOffset Since { get; init; }

    public required DateTimeOffset Until { get; init; }

    /// <summary>One line per service and tier, by service then tier.</summary>
    public required IReadOnlyList<CostLine> Lines { get; init; }

    /// <summary>Per service, summed over its tiers.</summary>
    public required IReadOnlyList<CostLine> Services { get; init; }

    /// <summary>Per tier name, summed over services.</summary>
    public required IReadOnlyList<CostLine> Tiers { get; init; }

    public required CostLine Total { get; init; }

    /// <summary>Builds the sums from the per-service, per-tier lines.</summary>
    public static CostReport From(DateTimeOffset since, DateTimeOffset until, IReadOnlyList<CostLine> lines)
    {
        ArgumentNullException.ThrowIfNull(lines);
        var empty = new CostLine();
        return new CostReport
        {
            Since = since,
            Until = until,
            Lines = lines,
            Services = [.. lines.GroupBy(l => l.Service).Select(g => g.Aggregate((a, b) => a.Plus(b)) with { Service = g.Key })],
            Tiers = [.. lines.GroupBy(l => l.Tier).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => g.Aggregate((a, b) => a.Plus(b)) with { Tier = g.Key })],
            Total = lines.Count == 0 ? empty : lines.Aggregate((a, b) => a.Plus(b)) with { Service = null, Tier = null, Provider = null },
        };
    }
}
