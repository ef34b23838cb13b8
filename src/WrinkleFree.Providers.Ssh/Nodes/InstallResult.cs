namespace WrinkleFree.Providers.Ssh.Nodes;

/// <summary>One installed file: where, what happened, how many bytes went over the wire and the verified SHA-256.</summary>
public sealed record InstallResult(string RemotePath, InstallOutcome Outcome, long BytesSent, string Sha256);
