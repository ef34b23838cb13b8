namespace WrinkleFree.Service.Tls;

/// <summary>A replica's own certificate and key, and the CA its clients' certificates must chain to (all PEM files).</summary>
public sealed record ReplicaCertificateFiles(string CertFile, string KeyFile, string ClientCaFile);
