namespace WrinkleFree.Platform.Tls;

/// <summary>What an issued certificate may prove: the server of a connection, its client, or both.</summary>
[Flags]
public enum CertificateUse
{
    None = 0,
    Server = 1,
    Client = 2,
}
