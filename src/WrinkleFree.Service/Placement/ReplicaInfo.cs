using WrinkleFree.Service.Controller;

namespace WrinkleFree.Service.Placement;

/// <summary>A replica as the planner sees it.</summary>
/// <param name="Id">The service-unique replica id.</param>
/// <param name="Tier">The name of the tier it runs on.</param>
/// <param name="Status">Its lifecycle state.</param>
/// <param name="Version">The service version it runs.</param>
/// <param name="LaunchedAt">When it was launched; newest goes first within a tier on scale-down.</param>
public readonly record struct ReplicaInfo(int Id, string Tier, ReplicaStatus Status, int Version, DateTimeOffset LaunchedAt);
