namespace WrinkleFree.Jobs;

/// <summary>
/// SkyPilot's <c>job_recovery</c>. Both strategies mean "restart here" on one machine (there is no other region to fail over
/// to); they are accepted so that task files move between SkyPilot and WrinkleFree unchanged.
/// </summary>
public sealed record RecoverySpec
{
    /// <summary>The strategies accepted.</summary>
    public static readonly IReadOnlyList<string> Strategies = ["EAGER_NEXT_REGION", "FAILOVER"];

    /// <summary><c>EAGER_NEXT_REGION</c> (SkyPilot's default) or <c>FAILOVER</c>.</summary>
    public string Strategy { get; init; } = "EAGER_NEXT_REGION";

    /// <summary>Relaunches allowed after a crash or kill (3 means up to 4 attempts); configuration and OOM errors never relaunch.</summary>
    public int MaxRestartsOnErrors { get; init; }
}
