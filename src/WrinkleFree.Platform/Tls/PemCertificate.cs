using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace WrinkleFree.Platform.Tls;

/// <summary>
/// Loads a PEM certificate (optionally followed by its intermediates) and its PEM private key, refusing with a message that
/// names the file when one is missing, unreadable, not PEM, when the key does not belong to the certificate, or when the
/// certificate is not valid at the given time.
/// </summary>
public static class PemCertificate
{
    /// <summary>Loads the pair; throws <see cref="TlsFileException"/> naming the file at fault.</summary>
    /// <param name="certFile">The certificate first, then any intermediates, in PEM.</param>
    /// <param name="keyFile">The certificate's private key in PEM (PKCS#8, PKCS#1 or SEC1; not encrypted).</param>
    /// <param name="now">The time the certificate must be valid at.</param>
    public static LoadedCertificate Load(string certFile, string keyFile, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(certFile);
        ArgumentNullException.ThrowIfNull(keyFile);
        var certText = Read(certFile, "certfile");
        var keyText = Read(keyFile, "keyfile");
        var chain = new X509Certificate2Collection();
        try
        {
            chain.ImportFromPem(certText);
        }
        catch (CryptographicException e)
        {
            throw Fail(certFile, $"certfile '{certFile}' holds a malformed PEM certificate ({e.Message.TrimEnd('.')})", e);
        }

        if (chain.Count == 0)
        {
            throw Fail(certFile, $"certfile '{certFile}' is not a PEM certificate (no -----BEGIN CERTIFICATE----- block)");
        }

        if (!keyText.Contains("PRIVATE KEY-----", StringComparison.Ordinal))
        {
            throw Fail(keyFile, $"keyfile '{keyFile}' is not a PEM private key (no -----BEGIN PRIVATE KEY----- block)");
        }

        if (keyText.Contains("ENCRYPTED PRIVATE KEY", StringComparison.Ordinal))
        {
            throw Fail(keyFile, $"keyfile '{keyFile}' is encrypted; give the key without a passphrase (readable by the service's user only)");
        }

        X509Certificate2 leaf;
        try
        {
            leaf = X509Certificate2.CreateFromPem(certText, keyText);
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            throw Fail(keyFile, ReadableKey(keyText)
                ? $"keyfile '{keyFile}' is not the private key of certfile '{certFile}' (the key does not match the certificate's public key)"
                : $"keyfile '{keyFile}' holds a malformed PEM private key ({e.Message.TrimEnd('.')})", e);
        }

        // The rest of the file is the chain served after the leaf; the leaf itself came back with its key.
        chain[0].Dispose();
        chain.RemoveAt(0);
        try
        {
            CheckValidity(leaf, certFile, now);
        }
        catch
        {
            leaf.Dispose();
            throw;
        }

        return new LoadedCertificate(leaf, chain);
    }

    /// <summary>Throws <see cref="TlsFileException"/> when <paramref name="certificate"/> is not valid at <paramref name="now"/>.</summary>
    public static void CheckValidity(X509Certificate2 certificate, string certFile, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        if (certificate.NotAfter.ToUniversalTime() <= now.UtcDateTime)
        {
            throw Fail(certFile, $"certfile '{certFile}' expired at {certificate.NotAfter.ToUniversalTime():yyyy-MM-dd HH:mm:ss}Z; renew the certificate");
        }

        if (certificate.NotBefore.ToUniversalTime() > now.UtcDateTime)
        {
            throw Fail(certFile, $"certfile '{certFile}' is not valid until {certificate.NotBefore.ToUniversalTime():yyyy-MM-dd HH:mm:ss}Z; check the clock or the certificate");
        }
    }

    /// <summary>Reads a PEM certificate without a key (a CA); throws <see cref="TlsFileException"/> naming the file.</summary>
    public static X509Certificate2 LoadCertificate(string certFile, string what)
    {
        var text = Read(certFile, what);
        try
        {
            return X509Certificate2.CreateFromPem(text);
        }
        catch (CryptographicException e)
        {
            throw Fail(certFile, $"{what} '{certFile}' is not a PEM certificate ({e.Message.TrimEnd('.')})", e);
        }
    }

    private static string Read(string path, string what)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw Fail(path, $"{what} '{path}' does not exist", e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw Fail(path, $"{what} '{path}' cannot be read by this user (permission denied)", e);
        }
        catch (IOException e)
        {
            throw Fail(path, $"{what} '{path}' cannot be read ({e.Message.TrimEnd('.')})", e);
        }
    }

    // Whether the key parses on its own: then a failure of the pair means the two do not belong together.
    private static bool ReadableKey(string keyText)
    {
        using var ec = ECDsa.Create();
        using var rsa = RSA.Create();
        return TryImport(ec, keyText) || TryImport(rsa, keyText);

        static bool TryImport(AsymmetricAlgorithm key, string text)
        {
            try
            {
                key.ImportFromPem(text);
                return true;
            }
            catch (Exception e) when (e is CryptographicException or ArgumentException)
            {
                return false;
            }
        }
    }

    private static TlsFileException Fail(string path, string message, Exception? inner = null) =>
        inner is null ? new TlsFileException(message) { FilePath = path } : new TlsFileException(message, inner) { FilePath = path };
}
