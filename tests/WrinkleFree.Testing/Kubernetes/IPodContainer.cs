namespace WrinkleFree.Testing.Kubernetes;

/// <summary>
/// What runs as a pod's container in <see cref="KubernetesApiTestDouble"/>: a real local process or listener started
/// by the test, listening on a loopback port that stands for the pod's container port.
/// </summary>
public interface IPodContainer : IAsyncDisposable
{
    /// <summary>The loopback port that port-forwards to the pod's container port reach.</summary>
    int LoopbackPort { get; }

    /// <summary>Completes with the exit code when the container ends on its own or is stopped.</summary>
    Task<int> Exited { get; }

    /// <summary>Its output so far, one entry per line (stdout and stderr together).</summary>
    PodLog Log { get; }

    /// <summary>SIGTERM, up to <paramref name="grace"/> to exit, then SIGKILL (zero: SIGKILL at once).</summary>
    Task StopAsync(TimeSpan grace);
}
