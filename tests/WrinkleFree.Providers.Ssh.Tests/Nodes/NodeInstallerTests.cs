using WrinkleFree.Providers.Ssh.Nodes;
using WrinkleFree.Providers.Ssh.Pools;
using WrinkleFree.Providers.Ssh.Sessions;
using WrinkleFree.Providers.Ssh.Tests.Support;
using WrinkleFree.Testing;

namespace WrinkleFree.Providers.Ssh.Tests.Nodes;

public sealed class NodeInstallerTests : IDisposable
{
    private static readonly SshNode Node = new() { Pool = "p", Host = "10.0.0.8", User = "root" };
    private readonly TempDirectory _dir = new("wf-ssh-tests");
    private readonly string _local;
    private readonly string _remote;
    private readonly byte[] _content;

    public NodeInstallerTests()
    {
        _content = new byte[300_000];
        new Random(13).NextBytes(_content);
        _local = Path.Combine(_dir.Sub("local"), "model.gguf");
        File.WriteAllBytes(_local, _content);
        _remote = Path.Combine(_dir.Path, "node", "models", "abc.gguf");
    }

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task InstallAsync_Twice_SecondRunSendsNothing()
    {
        await using var session = new LocalShellSession(Node);
        var reports = new List<(string File, long Done, long Total)>();

        var first = await NodeInstaller.InstallAsync(session, [new InstallItem(_local, _remote, Executable: true)], new ListProgress(reports), TestTimeout.Token());
        var second = await NodeInstaller.InstallAsync(session, [new InstallItem(_local, _remote, Executable: true)], null, TestTimeout.Token());

        Assert.Equal((InstallOutcome.Uploaded, _content.Length), (first[0].Outcome, (int)first[0].BytesSent));
        Assert.Equal((InstallOutcome.Skipped, 0L), (second[0].Outcome, second[0].BytesSent));
        Assert.Equal(await NodeInstaller.Sha256Async(_local, TestTimeout.Token()), second[0].Sha256);
        Assert.Equal(_content, File.ReadAllBytes(_remote));
        Assert.False(File.Exists(_remote + ".part"));
        Assert.True(File.GetUnixFileMode(_remote).HasFlag(UnixFileMode.UserExecute));
        Assert.Equal(("model.gguf", (long)_content.Length, (long)_content.Length), reports[^1]);
    }

    [Fact]
    public async Task InstallAsync_PartialUpload_ResumesFromItsSize()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(_remote)!);
        File.WriteAllBytes(_remote + ".part", _content[..100_000]);
        await using var session = new LocalShellSession(Node);

        var result = await NodeInstaller.InstallAsync(session, [new InstallItem(_local, _remote)], null, TestTimeout.Token());

        Assert.Equal((InstallOutcome.Resumed, 200_000L), (result[0].Outcome, result[0].BytesSent));
        Assert.Equal(_content, File.ReadAllBytes(_remote));
        Assert.False(File.GetUnixFileMode(_remote).HasFlag(UnixFileMode.UserExecute));
    }

    [Fact]
    public async Task InstallAsync_DifferentFileInPlace_IsReplaced()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(_remote)!);
        File.WriteAllText(_remote, "an older model");
        await using var session = new LocalShellSession(Node);

        var result = await NodeInstaller.InstallAsync(session, [new InstallItem(_local, _remote)], null, TestTimeout.Token());

        Assert.Equal(InstallOutcome.Uploaded, result[0].Outcome);
        Assert.Equal(_content, File.ReadAllBytes(_remote));
    }

    [Fact]
    public async Task InstallAsync_CorruptedUpload_IsDetectedAndSentAgain()
    {
        await using var session = new CorruptingSession(Node, corruptUploads: 1);

        var result = await NodeInstaller.InstallAsync(session, [new InstallItem(_local, _remote)], null, TestTimeout.Token());

        Assert.Equal(2, session.Uploads);
        Assert.Equal((InstallOutcome.Uploaded, 2L * _content.Length), (result[0].Outcome, result[0].BytesSent));
        Assert.Equal(_content, File.ReadAllBytes(_remote));
    }

    [Fact]
    public async Task InstallAsync_CorruptedEveryTime_ErrorNamesNodeFileAndBothHashes()
    {
        await using var session = new CorruptingSession(Node, corruptUploads: 99);

        var e = await Assert.ThrowsAsync<SshNodeException>(() => NodeInstaller.InstallAsync(session, [new InstallItem(_local, _remote)], null, TestTimeout.Token()));

        Assert.Equal(NodeInstaller.MaxAttempts, session.Uploads);
        Assert.StartsWith("root@10.0.0.8: ", e.Message, StringComparison.Ordinal);
        Assert.Contains(_remote, e.Message, StringComparison.Ordinal);
        Assert.Contains(await NodeInstaller.Sha256Async(_local, TestTimeout.Token()), e.Message, StringComparison.Ordinal);
        var corrupted = _content.ToArray();
        corrupted[corrupted.Length / 2] ^= 0x5a;
        Assert.Contains(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(corrupted)), e.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(_remote));
        Assert.False(File.Exists(_remote + ".part"));
    }

    private sealed class ListProgress(List<(string File, long Done, long Total)> reports) : IProgress<(string File, long Done, long Total)>
    {
        public void Report((string File, long Done, long Total) value) => reports.Add(value);
    }
}
