namespace WrinkleFree.Service.Tls;

/// <summary>Issues a replica the certificate it serves mutual TLS with, for the address it will listen on.</summary>
public interface IReplicaCertificateIssuer
{
    /// <summary>Writes replica <paramref name="replicaId"/>'s certificate for <paramref name="host"/> (an IP address or DNS name) and returns its files.</summary>
    ReplicaCertificateFiles Issue(int replicaId, string host);
}
