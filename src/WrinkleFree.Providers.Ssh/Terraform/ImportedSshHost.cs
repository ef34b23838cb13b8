namespace WrinkleFree.Providers.Ssh.Terraform;

/// <summary>
/// One host of an imported pool: the address SSH connects to and, where the Terraform output names the server, that name
/// (written as a comment beside the entry, since SkyPilot's host entries have no name field).
/// </summary>
public sealed record ImportedSshHost
{
    /// <summary>The IPv4 or IPv6 address, validated and written as the entry's <c>ip</c>.</summary>
    public required string Ip { get; init; }

    /// <summary>The server's name in the module (an object's <c>name</c> or the map key); null when the output has none.</summary>
    public string? Name { get; init; }

    /// <summary>Where the address came from in the output, e.g. <c>servers.value[2].ipv4_address</c>.</summary>
    public required string Source { get; init; }
}
