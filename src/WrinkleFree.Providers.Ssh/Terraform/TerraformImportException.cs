namespace WrinkleFree.Providers.Ssh.Terraform;

/// <summary>
/// The Terraform output cannot be turned into a pool. The message names the output and the key path inside it
/// (<c>servers.value[2].ipv4_address: missing</c>) and what to do.
/// </summary>
public sealed class TerraformImportException : Exception
{
    public TerraformImportException()
    {
    }

    public TerraformImportException(string message)
        : base(message)
    {
    }

    public TerraformImportException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The key path the error is about (<c>servers.value[2].ipv4_address</c>); null for the input as a whole.</summary>
    public string? KeyPath { get; init; }
}
