namespace WrinkleFree.Providers.Ssh.Terraform;

/// <summary>
/// One pool entry of <c>ssh_node_pools.yaml</c> as <see cref="TerraformImport"/> builds it: pool-level user, identity
/// file, optional port and jump host, and the hosts as <c>ip</c> maps. <see cref="ToYaml"/> writes it the way
/// SkyPilot's <c>sky ssh up</c> reads it.
/// </summary>
public sealed record ImportedSshPool
{
    /// <summary>The pool's name: the top-level key of the file and the tier's <c>settings.pool</c>.</summary>
    public required string Name { get; init; }

    /// <summary>The login user for every host.</summary>
    public required string User { get; init; }

    /// <summary>The private key file for every host; null leaves it to ssh-agent and the default keys.</summary>
    public string? IdentityFile { get; init; }

    /// <summary>The SSH port when it is not 22 (a WrinkleFree extension; SkyPilot reads the port from ~/.ssh/config).</summary>
    public int? Port { get; init; }

    /// <summary>
    /// The jump host as ssh's ProxyJump writes it (<c>user@host[:port]</c>) when the hosts are private addresses behind a
    /// bastion (a WrinkleFree extension; for <c>sky ssh up</c> the same hop goes into ~/.ssh/config).
    /// </summary>
    public string? ProxyJump { get; init; }

    /// <summary>The hosts, in the order the output lists them (map outputs: the order Terraform prints, sorted by key).</summary>
    public required IReadOnlyList<ImportedSshHost> Hosts { get; init; }

    /// <summary>The pool as one top-level block of <c>ssh_node_pools.yaml</c>, ending in a newline.</summary>
    public string ToYaml() => SshPoolYaml.Render(this);
}
