using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.Logging;
using WrinkleFree.Platform.Tls;

namespace WrinkleFree.Service.Tls;

/// <summary>HTTPS for the service endpoint (<c>service.tls</c>): the PEM pair served from memory and reloaded when its files change.</summary>
internal static class ServerTls
{
    /// <summary>The endpoint's certificate, or null for plain HTTP; throws <see cref="TlsFileException"/> naming a file that cannot be used.</summary>
    public static ReloadingCertificate? Load(string? certFile, string? keyFile, string role, TimeProvider time, ILogger logger) =>
        certFile is null || keyFile is null ? null
        : new ReloadingCertificate(certFile, keyFile, time,
            onError: problem => Log.CertificateRejected(logger, role, problem),
            onReloaded: loaded => Log.CertificateReloaded(logger, role, loaded.Certificate.Subject, loaded.Certificate.NotAfter.ToUniversalTime()));

    /// <summary>Serves HTTPS on <paramref name="listen"/> when <paramref name="certificate"/> is given; each handshake takes the current pair.</summary>
    public static void Use(ListenOptions listen, ReloadingCertificate? certificate)
    {
        if (certificate is null)
            return;
        listen.UseHttps(new TlsHandshakeCallbackOptions
        {
            OnConnection = _ => ValueTask.FromResult(MutualTls.ServerOptions(certificate, clientCa: null)),
        });
    }
}
