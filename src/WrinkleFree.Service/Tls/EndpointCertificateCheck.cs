using WrinkleFree.Platform.Tls;
using WrinkleFree.Service.Spec;

namespace WrinkleFree.Service.Tls;

/// <summary>
/// The plan's check of <c>service.tls</c>: the files exist and can be read, hold PEM, the key is the certificate's, and
/// the certificate is valid now. A spec that asks for HTTPS and cannot get it never starts.
/// </summary>
internal static class EndpointCertificateCheck
{
    /// <summary>A certificate that ends sooner than this after the plan gets a warning.</summary>
    public static readonly TimeSpan ExpiryWarning = TimeSpan.FromDays(14);

    /// <summary>
    /// Throws <see cref="ServiceSpecException"/> at <c>service.tls.certfile</c> or <c>service.tls.keyfile</c> when the pair
    /// cannot be served at <paramref name="now"/>; returns warnings (key path, text): a certificate that expires within
    /// <see cref="ExpiryWarning"/>, a key file other users can read.
    /// </summary>
    public static IReadOnlyList<(string KeyPath, string Message)> Check(TlsSpec tls, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(tls);
        LoadedCertificate loaded;
        try
        {
            loaded = PemCertificate.Load(tls.Certfile, tls.Keyfile, now);
        }
        catch (TlsFileException e)
        {
            var key = e.FilePath == tls.Keyfile && e.FilePath != tls.Certfile ? "service.tls.keyfile" : "service.tls.certfile";
            throw new ServiceSpecException(key, e.Message + "; the service endpoint cannot serve HTTPS without it");
        }

        using var certificate = loaded.Certificate;
        foreach (var intermediate in loaded.Intermediates)
            intermediate.Dispose();
        var warnings = new List<(string, string)>();
        var end = new DateTimeOffset(certificate.NotAfter.ToUniversalTime());
        if (end - now < ExpiryWarning)
        {
            warnings.Add(("service.tls.certfile",
                $"certfile '{tls.Certfile}' expires at {end:yyyy-MM-dd HH:mm}Z; replace the files before then (the endpoint reloads them without a restart)"));
        }

        const UnixFileMode Others = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite;
        if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(tls.Keyfile) & Others) != 0)
        {
            warnings.Add(("service.tls.keyfile", $"keyfile '{tls.Keyfile}' can be read by other users of this machine; `chmod 600` it"));
        }

        return warnings;
    }

    /// <summary>
    /// Throws <see cref="ServiceSpecException"/> when an update changes <c>service.tls</c>: the running endpoint's files are
    /// fixed (their content is reloaded), so a new spec must not claim other files it would not serve.
    /// </summary>
    public static void CheckUnchanged(TlsSpec? running, TlsSpec? next)
    {
        if (running == next)
            return;
        throw new ServiceSpecException("service.tls", running is null || next is null
            ? $"cannot switch the running endpoint between HTTP and HTTPS; `wf down` and `wf up` the service with the new spec"
            : $"the running endpoint serves '{running.Certfile}' and '{running.Keyfile}'; replace those files' content (reloaded without a restart), or `wf down` and `wf up` to use other files");
    }
}
