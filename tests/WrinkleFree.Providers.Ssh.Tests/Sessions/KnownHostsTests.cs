using System.Security.Cryptography;
using System.Text;
using WrinkleFree.Providers.Ssh.Sessions;
using WrinkleFree.Testing;

namespace WrinkleFree.Providers.Ssh.Tests.Sessions;

public sealed class KnownHostsTests
{
    // Two made-up ed25519 public key blobs (type string + 32 key bytes), enough for matching and fingerprints.
    private static readonly byte[] KeyA = Blob("ssh-ed25519", 1);
    private static readonly byte[] KeyB = Blob("ssh-ed25519", 2);
    private static readonly byte[] RsaKey = Blob("ssh-rsa", 3);

    [Fact]
    public void Check_PlainPatternsPortsAndNegation()
    {
        using var dir = new TempDirectory("wf-ssh-tests");
        var known = Load(dir,
            $"# comment\n10.0.0.1,node1.example {Line(KeyA)}\n[10.0.0.2]:2222 {Line(KeyB)}\n*.pool.example,!bad.pool.example {Line(KeyA)}\nnot a valid line\n");

        Assert.Equal(HostKeyStatus.Known, known.Check("10.0.0.1", 22, KeyA).Status);
        Assert.Equal(HostKeyStatus.Known, known.Check("NODE1.example", 22, KeyA).Status);
        Assert.Equal(HostKeyStatus.Unknown, known.Check("10.0.0.1", 2222, KeyA).Status);
        Assert.Equal(HostKeyStatus.Known, known.Check("10.0.0.2", 2222, KeyB).Status);
        Assert.Equal(HostKeyStatus.Unknown, known.Check("10.0.0.2", 22, KeyB).Status);
        Assert.Equal(HostKeyStatus.Known, known.Check("a.pool.example", 22, KeyA).Status);
        Assert.Equal(HostKeyStatus.Unknown, known.Check("bad.pool.example", 22, KeyA).Status);
    }

    [Fact]
    public void Check_OtherKeyOnRecord_ChangedWithTheRecordedEntry()
    {
        using var dir = new TempDirectory("wf-ssh-tests");
        var known = Load(dir, $"10.0.0.9 {Line(RsaKey)}\n10.0.0.9 {Line(KeyA)}\n");

        var verdict = known.Check("10.0.0.9", 22, KeyB);

        Assert.Equal(HostKeyStatus.Changed, verdict.Status);
        Assert.Equal(2, verdict.Line);
        Assert.Equal(KeyA, verdict.RecordedBlob);
        Assert.Equal(["ssh-ed25519", "ssh-rsa"], known.KeyTypesFor("10.0.0.9", 22).Order());
    }

    [Fact]
    public void Check_HashedEntries_MatchOnlyTheirHostAndPort()
    {
        using var dir = new TempDirectory("wf-ssh-tests");
        var known = Load(dir, $"{Hashed("10.0.0.3")} {Line(KeyA)}\n{Hashed("[10.0.0.4]:2200")} {Line(KeyB)}\n");

        Assert.Equal(HostKeyStatus.Known, known.Check("10.0.0.3", 22, KeyA).Status);
        Assert.Equal(HostKeyStatus.Changed, known.Check("10.0.0.3", 22, KeyB).Status);
        Assert.Equal(HostKeyStatus.Known, known.Check("10.0.0.4", 2200, KeyB).Status);
        Assert.Equal(HostKeyStatus.Unknown, known.Check("10.0.0.5", 22, KeyA).Status);
    }

    [Fact]
    public void Check_RevokedKey_IsRevoked_CertAuthorityLinesSkipped()
    {
        using var dir = new TempDirectory("wf-ssh-tests");
        var known = Load(dir, $"@revoked * {Line(KeyB)}\n@cert-authority *.example {Line(KeyA)}\n10.0.0.1 {Line(KeyB)}\n");

        Assert.Equal(HostKeyStatus.Revoked, known.Check("10.0.0.1", 22, KeyB).Status);
        Assert.Equal(HostKeyStatus.Unknown, known.Check("x.example", 22, KeyA).Status);
    }

    [Fact]
    public void Append_WritesPlainEntryReadBackAsKnown_Fingerprint_AsOpenSshPrintsIt()
    {
        using var dir = new TempDirectory("wf-ssh-tests");
        var file = Path.Combine(dir.Path, "home", "ssh", "known_hosts");

        KnownHosts.Append(file, "10.0.0.7", 2222, KeyA);

        Assert.Equal($"[10.0.0.7]:2222 {Line(KeyA)}\n", File.ReadAllText(file));
        Assert.Equal(HostKeyStatus.Known, KnownHosts.Load([file]).Check("10.0.0.7", 2222, KeyA).Status);
        Assert.Equal("SHA256:" + Convert.ToBase64String(SHA256.HashData(KeyA)).TrimEnd('='), KnownHosts.Fingerprint(KeyA));
        Assert.DoesNotContain("=", KnownHosts.Fingerprint(KeyA), StringComparison.Ordinal);
    }

    private static KnownHosts Load(TempDirectory dir, string text)
    {
        var file = Path.Combine(dir.Path, "known_hosts");
        File.WriteAllText(file, text);
        return KnownHosts.Load([file, Path.Combine(dir.Path, "missing")]);
    }

    private static string Line(byte[] blob) => $"{KnownHosts.KeyType(blob)} {Convert.ToBase64String(blob)}";

    private static string Hashed(string name)
    {
        var salt = RandomNumberGenerator.GetBytes(20);
        return $"|1|{Convert.ToBase64String(salt)}|{Convert.ToBase64String(HMACSHA1.HashData(salt, Encoding.UTF8.GetBytes(name)))}";
    }

    private static byte[] Blob(string type, byte fill)
    {
        var name = Encoding.ASCII.GetBytes(type);
        var blob = new byte[4 + name.Length + 4 + 32];
        blob[3] = (byte)name.Length;
        name.CopyTo(blob, 4);
        blob[4 + name.Length + 3] = 32;
        blob.AsSpan(8 + name.Length).Fill(fill);
        return blob;
    }
}
