namespace WrinkleFree.Service.Spec;

/// <summary>Where a tier's replicas run.</summary>
public enum TierProvider
{
    /// <summary>Replica processes on the controller's own machine.</summary>
    Local,

    /// <summary>Bare-metal hosts reached over SSH (a SkyPilot-style SSH node pool).</summary>
    Ssh,

    /// <summary>Pods in a Kubernetes cluster.</summary>
    Kubernetes,

    /// <summary>Cloud virtual machines, on-demand or spot.</summary>
    Cloud,
}
