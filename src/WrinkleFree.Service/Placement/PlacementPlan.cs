namespace WrinkleFree.Service.Placement;

/// <summary>What to change now: replicas to launch (one tier name each, at <see cref="Version"/>) and replicas to stop.</summary>
/// <param name="Launch">One entry per replica to launch, naming its tier.</param>
/// <param name="Terminate">Ids of replicas to drain and stop (or clean up, if already failed).</param>
/// <param name="Version">The service version new replicas run.</param>
/// <param name="InPlaceRoll">True when an update found every tier full and stops an old replica before its replacement
/// can start (the service runs one replica short meanwhile).</param>
public sealed record PlacementPlan(IReadOnlyList<string> Launch, IReadOnlyList<int> Terminate, int Version, bool InPlaceRoll = false)
{
    /// <summary>True when the plan changes nothing.</summary>
    public bool IsEmpty => Launch.Count == 0 && Terminate.Count == 0;
}
