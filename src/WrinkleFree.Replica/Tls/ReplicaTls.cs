using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.Logging;
using WrinkleFree.Platform.Tls;

namespace WrinkleFree.Replica.Tls;

/// <summary>
/// HTTPS for a replica (<c>--tls-cert/--tls-key</c>), reloading the pair when its files change, and with
/// <c>--tls-client-ca</c> mutual TLS: a client without a certificate chaining to that CA fails the handshake.
/// </summary>
internal sealed partial class ReplicaTls
{
    private readonly ReloadingCertificate _certificate;
    private readonly X509Certificate2? _clientCa;
    private ILogger? _logger;

    private ReplicaTls(ReloadingCertificate certificate, X509Certificate2? clientCa) => (_certificate, _clientCa) = (certificate, clientCa);

    /// <summary>The replica's TLS, or null for plain HTTP; throws <see cref="TlsFileException"/> naming a file that cannot be used.</summary>
    public static ReplicaTls? Create(ReplicaOptions options, TimeProvider time)
    {
        if (options.TlsCertFile is null || options.TlsKeyFile is null)
        {
            return null;
        }

        ReplicaTls? tls = null;
        var certificate = new ReloadingCertificate(options.TlsCertFile, options.TlsKeyFile, time,
            onError: message => { if (tls?._logger is { } logger) CertificateRejected(logger, message); },
            onReloaded: loaded => { if (tls?._logger is { } logger) CertificateReloaded(logger, loaded.Certificate.Subject, loaded.Certificate.NotAfter.ToUniversalTime()); });
        var ca = options.TlsClientCaFile is { } caFile ? PemCertificate.LoadCertificate(caFile, "--tls-client-ca") : null;
        tls = new ReplicaTls(certificate, ca);
        return tls;
    }

    /// <summary>Where reloads and rejected files are logged, once the host's loggers exist.</summary>
    public ILogger? Logger
    {
        set => _logger = value;
    }

    /// <summary>Serves HTTPS on <paramref name="listen"/>; every handshake takes the current certificate.</summary>
    public void Use(ListenOptions listen) =>
        listen.UseHttps(new TlsHandshakeCallbackOptions
        {
            OnConnection = _ => ValueTask.FromResult(MutualTls.ServerOptions(_certificate, _clientCa)),
        });

    [LoggerMessage(EventId = 1050, Level = LogLevel.Error, Message = "New TLS certificate not loaded, still serving the previous one: {Problem}")]
    private static partial void CertificateRejected(ILogger logger, string problem);

    [LoggerMessage(EventId = 1051, Level = LogLevel.Information, Message = "TLS certificate reloaded: {Subject}, valid until {NotAfter:u}")]
    private static partial void CertificateReloaded(ILogger logger, string subject, DateTime notAfter);
}
