namespace WrinkleFree.Providers.Ssh.Terraform;

/// <summary>
/// <c>ssh_node_pools.yaml</c> cannot take the pool: it does not parse (the message gives line and column), its top level
/// is not a map of pools, or the pool exists and replacing it was not asked for.
/// </summary>
public sealed class SshPoolFileException : Exception
{
    public SshPoolFileException()
    {
    }

    public SshPoolFileException(string message)
        : base(message)
    {
    }

    public SshPoolFileException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
