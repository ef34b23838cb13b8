using Microsoft.Extensions.Logging;

namespace WrinkleFree.Service.Tls;

/// <summary>TLS log messages: certificates loaded, reloaded, refused and rotated (event ids 4900-4999).</summary>
internal static partial class Log
{
    [LoggerMessage(4900, LogLevel.Error, "New TLS certificate for {Role} not loaded, still using the previous one: {Problem}")]
    public static partial void CertificateRejected(ILogger logger, string role, string problem);

    [LoggerMessage(4901, LogLevel.Information, "TLS certificate for {Role} reloaded: {Subject}, valid until {NotAfter:u}")]
    public static partial void CertificateReloaded(ILogger logger, string role, string subject, DateTime notAfter);

    [LoggerMessage(4902, LogLevel.Information, "Certificate authority of service {Service} created in {Folder}")]
    public static partial void AuthorityCreated(ILogger logger, string service, string folder);

    [LoggerMessage(4903, LogLevel.Information, "Certificate {File} of service {Service} re-issued before expiry, valid until {NotAfter:u}")]
    public static partial void CertificateRotated(ILogger logger, string service, string file, DateTime notAfter);

    [LoggerMessage(4904, LogLevel.Error, "Certificate {File} of service {Service} could not be re-issued: {Problem}")]
    public static partial void RotationFailed(ILogger logger, string service, string file, string problem);

    [LoggerMessage(4905, LogLevel.Error, "{Service}: the endpoint cannot serve HTTPS: {Problem}")]
    public static partial void EndpointTlsFailed(ILogger logger, string service, string problem);
}
