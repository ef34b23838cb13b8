namespace WrinkleFree.Providers.Ssh.Terraform;

/// <summary>What <see cref="TerraformImport"/> built: the pool, which output it came from, and what the user should know.</summary>
public sealed record TerraformImportResult
{
    /// <summary>The pool entry to merge into <c>ssh_node_pools.yaml</c>.</summary>
    public required ImportedSshPool Pool { get; init; }

    /// <summary>The output the servers were read from.</summary>
    public required string ServersOutput { get; init; }

    /// <summary>Things worth saying that are not errors: sensitive outputs, defaults taken, a bastion chosen.</summary>
    public required IReadOnlyList<string> Notes { get; init; }
}
