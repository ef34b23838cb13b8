namespace WrinkleFree.Providers.Ssh.Sessions;

/// <summary>What a command run on a node returned.</summary>
public sealed record SshCommandResult(int ExitCode, string Stdout, string Stderr)
{
    public bool Succeeded => ExitCode == 0;
}
