namespace WrinkleFree.Providers.Ssh.Sessions;

/// <summary>What known_hosts says about a key a host offered.</summary>
internal enum HostKeyStatus
{
    Known,
    Unknown,
    Changed,
    Revoked,
}
