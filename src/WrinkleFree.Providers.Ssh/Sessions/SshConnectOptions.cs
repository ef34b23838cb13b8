namespace WrinkleFree.Providers.Ssh.Sessions;

/// <summary>How <see cref="SshNetConnector"/> connects: which known_hosts files it trusts, whether it records new host keys, timeouts and retries.</summary>
public sealed record SshConnectOptions
{
    /// <summary>
    /// known_hosts files read for host-key checking, in order; missing files are skipped. Default: <c>~/.ssh/known_hosts</c>
    /// and <see cref="AcceptedHostsFile"/> (see <see cref="ForHome"/>).
    /// </summary>
    public IReadOnlyList<string> KnownHostsFiles { get; init; } = [];

    /// <summary>Where <see cref="AcceptNew"/> records keys (<c>$WF_HOME/ssh/known_hosts</c>, 0600 in a 0700 folder); also read.</summary>
    public required string AcceptedHostsFile { get; init; }

    /// <summary>Trust and record a host key seen for the first time (<c>wf ssh up --accept-new</c>); a changed key is still refused.</summary>
    public bool AcceptNew { get; init; }

    /// <summary>How long one connection attempt (TCP, key exchange and authentication) may take.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Attempts for transient network errors (refused, timed out, reset, unreachable); auth and host-key failures are never retried.</summary>
    public int Retries { get; init; } = 3;

    /// <summary>Wait before the second attempt; doubled before each later one.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How often an idle session proves the node still answers (SSH keep-alive plus a channel round trip bounded by
    /// <see cref="ConnectTimeout"/>), so a dead link or sshd shows in <see cref="ISshSession.IsConnected"/>.
    /// </summary>
    public TimeSpan KeepAliveInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Keys tried, in order, for a node with neither <c>identity_file</c> nor <c>password</c> (as ssh does, so a pool that
    /// works with <c>ssh HOST</c> works here); files that do not exist are skipped. Default: <c>~/.ssh/id_ed25519</c>,
    /// <c>id_ecdsa</c>, <c>id_rsa</c>.
    /// </summary>
    public IReadOnlyList<string> DefaultIdentityFiles { get; init; } = ["~/.ssh/id_ed25519", "~/.ssh/id_ecdsa", "~/.ssh/id_rsa"];

    /// <summary>The defaults for a WF home: <c>~/.ssh/known_hosts</c> and <c>HOME/ssh/known_hosts</c>, where accepted keys go.</summary>
    public static SshConnectOptions ForHome(string home, bool acceptNew = false)
    {
        ArgumentNullException.ThrowIfNull(home);
        var accepted = Path.Combine(home, "ssh", "known_hosts");
        var user = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".ssh", "known_hosts");
        return new SshConnectOptions { KnownHostsFiles = [user, accepted], AcceptedHostsFile = accepted, AcceptNew = acceptNew };
    }
}
