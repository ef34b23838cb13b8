namespace WrinkleFree.Providers.Ssh.Sessions;

/// <summary>The outcome of a known_hosts check; for Changed and Revoked, the entry (file, line, key) it is about.</summary>
internal sealed record HostKeyVerdict(HostKeyStatus Status, string? File, int Line, byte[]? RecordedBlob);
