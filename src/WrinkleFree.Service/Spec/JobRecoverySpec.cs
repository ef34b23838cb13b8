namespace WrinkleFree.Service.Spec;

/// <summary>SkyPilot's <c>resources.job_recovery</c>: how a preempted or failed replica machine is recovered.</summary>
public sealed record JobRecoverySpec
{
    /// <summary>The strategies SkyPilot accepts.</summary>
    public static readonly IReadOnlyList<string> Strategies = ["EAGER_NEXT_REGION", "FAILOVER"];

    /// <summary><c>EAGER_NEXT_REGION</c> (SkyPilot's default when null) or <c>FAILOVER</c>.</summary>
    public string? Strategy { get; init; }

    /// <summary>Restarts allowed after a non-preemption failure (3 means up to 4 attempts).</summary>
    public int MaxRestartsOnErrors { get; init; }
}
