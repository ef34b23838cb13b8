namespace WrinkleFree.Providers.Ssh.Nodes;

/// <summary>How replicas run on a node.</summary>
public enum NodeRuntimeMode
{
    /// <summary>A systemd unit per replica (root logins on nodes where systemd is PID 1).</summary>
    Systemd,

    /// <summary>A supervised background process: a small sh supervisor restarts the replica on failure.</summary>
    Supervisor,
}
