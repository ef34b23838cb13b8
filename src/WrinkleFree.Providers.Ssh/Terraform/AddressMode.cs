namespace WrinkleFree.Providers.Ssh.Terraform;

/// <summary>Which address of a server object becomes the host's <c>ip</c>.</summary>
internal enum AddressMode
{
    /// <summary><c>ipv4_address</c>, else <c>ip</c>.</summary>
    Ipv4,

    /// <summary><c>ipv6_address</c>, else <c>ip</c> when it is IPv6.</summary>
    Ipv6,

    /// <summary><c>private_ip</c>, reached through the bastion.</summary>
    Private,
}
