namespace WrinkleFree.Testing.Ssh;

/// <summary>An ed25519 client key pair made with ssh-keygen (no passphrase) in a folder of the test's own; deleted on dispose.</summary>
public sealed class SshTestKeys : IDisposable
{
    private readonly TempDirectory _folder;

    private SshTestKeys(TempDirectory folder, string privateKeyPath, string publicKey)
    {
        _folder = folder;
        PrivateKeyPath = privateKeyPath;
        PublicKey = publicKey;
    }

    /// <summary>The private key file (OpenSSH format, 0600).</summary>
    public string PrivateKeyPath { get; }

    /// <summary>The public key as an authorized_keys line.</summary>
    public string PublicKey { get; }

    /// <summary>A folder next to the key for the test's own files (known_hosts, uploads).</summary>
    public string Folder => _folder.Path;

    /// <summary>Makes a fresh key pair.</summary>
    public static async Task<SshTestKeys> CreateAsync()
    {
        var folder = new TempDirectory("wf-ssh-tests");
        try
        {
            var key = Path.Combine(folder.Path, "id_ed25519");
            await NetworkNamespace.RunAsync("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "wf-test", "-f", key);
            return new SshTestKeys(folder, key, (await File.ReadAllTextAsync(key + ".pub")).Trim());
        }
        catch
        {
            folder.Dispose();
            throw;
        }
    }

    public void Dispose() => _folder.Dispose();
}
