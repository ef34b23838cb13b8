namespace WrinkleFree.Providers.Ssh.Terraform;

/// <summary>
/// What <see cref="TerraformImport"/> is asked: the pool to build, which output holds the servers, and the values given on
/// the command line, which win over the module's outputs.
/// </summary>
public sealed record TerraformImportOptions
{
    /// <summary>The pool name to write (the top-level key of <c>ssh_node_pools.yaml</c>).</summary>
    public required string Pool { get; init; }

    /// <summary>The output holding the servers; null picks the single output that looks like servers.</summary>
    public string? Output { get; init; }

    /// <summary>The login user; wins over the module's <c>ssh_user</c> output.</summary>
    public string? User { get; init; }

    /// <summary>The private key path; wins over the module's <c>ssh_private_key_path</c> / <c>identity_file</c> output.</summary>
    public string? IdentityFile { get; init; }

    /// <summary>Use each server's <c>ipv6_address</c> instead of its IPv4 address.</summary>
    public bool Ipv6 { get; init; }

    /// <summary>
    /// Use each server's <c>private_ip</c> and reach it through the module's <c>bastion_ip</c> (<c>proxy_jump</c>); chosen
    /// on its own when no server has a public address and the module has a bastion.
    /// </summary>
    public bool Private { get; init; }

    /// <summary>How the input is named in errors (the file path, or <c>stdin</c>).</summary>
    public string Source { get; init; } = "terraform output";
}
