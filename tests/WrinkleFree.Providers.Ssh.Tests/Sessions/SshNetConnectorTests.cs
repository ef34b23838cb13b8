using System.Security.Cryptography;
using WrinkleFree.Providers.Ssh.Sessions;
using WrinkleFree.Testing;
using WrinkleFree.Testing.Ssh;

namespace WrinkleFree.Providers.Ssh.Tests.Sessions;

/// <summary>
/// Connecting to real sshds in network namespaces: key and password login, the host-key checks (unknown, accepted and
/// recorded, changed, hashed entries), wrong and missing keys, and the network failures (link down, sshd killed).
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
[Collection(SshNodesCollection.Name)]
public sealed class SshNetConnectorTests(SshNodesFixture fixture)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [SshdFact]
    public async Task ConnectAsync_Key_RunsCommandWithExitCodeAndBothStreams()
    {
        using var dir = new TempDirectory("wf-ssh-tests");
        var connector = new SshNetConnector(fixture.Options(dir.Path, fixture.AllKnownHosts), TimeProvider.System);
        await using var session = await connector.ConnectAsync(fixture.Nodes[0].Node, CancellationToken.None).WaitAsync(Deadline);

        var result = await session.RunAsync("echo hello; echo oops >&2; ip -4 -o addr show eth0; exit 3", Deadline, CancellationToken.None);

        Assert.True(session.IsConnected);
        Assert.Equal(3, result.ExitCode);
        Assert.StartsWith("hello\n", result.Stdout, StringComparison.Ordinal);
        Assert.Contains(fixture.Nodes[0].Address + "/24", result.Stdout, StringComparison.Ordinal);
        Assert.Equal("oops\n", result.Stderr);
    }

    [SshdFact]
    public async Task ConnectAsync_Password_LogsInAsTheUser()
    {
        using var dir = new TempDirectory("wf-ssh-tests");
        var connector = new SshNetConnector(fixture.Options(dir.Path, fixture.AllKnownHosts), TimeProvider.System);
        await using var session = await connector.ConnectAsync(fixture.Nodes[1].PasswordNode, CancellationToken.None).WaitAsync(Deadline);

        var result = await session.RunAsync("id -un", Deadline, CancellationToken.None);

        Assert.Equal(SshdNode.PasswordUser + "\n", result.Stdout);
        Assert.Null(fixture.Nodes[1].PasswordNode.IdentityFile);
    }

    [SshdFact]
    public async Task ConnectAsync_WrongKey_ErrorNamesNodeAndKeyFile()
    {
        using var dir = new TempDirectory("wf-ssh-tests");
        using var other = await SshTestKeys.CreateAsync();
        var node = fixture.Nodes[0].Node with { IdentityFile = other.PrivateKeyPath };
        var connector = new SshNetConnector(fixture.Options(dir.Path, fixture.AllKnownHosts), TimeProvider.System);

        var error = await Assert.ThrowsAsync<SshNodeException>(() => connector.ConnectAsync(node, CancellationToken.None).WaitAsync(Deadline));

        Assert.Contains(node.Name, error.Message, StringComparison.Ordinal);
        Assert.Contains(other.PrivateKeyPath, error.Message, StringComparison.Ordinal);
        Assert.Contains("refused", error.Message, StringComparison.Ordinal);
    }

    [SshdFact]
    public async Task ConnectAsync_MissingOrGarbageKeyFile_ErrorNamesKeyFile()
    {
        using var dir = new TempDirectory("wf-ssh-tests");
        var connector = new SshNetConnector(fixture.Options(dir.Path, fixture.AllKnownHosts), TimeProvider.System);
        var missing = fixture.Nodes[0].Node with { IdentityFile = Path.Combine(dir.Path, "nope") };
        var garbage = Path.Combine(dir.Path, "garbage");
        await File.WriteAllTextAsync(garbage, "not a key\n");

        var first = await Assert.ThrowsAsync<SshNodeException>(() => connector.ConnectAsync(missing, CancellationToken.None));
        var second = await Assert.ThrowsAsync<SshNodeException>(
            () => connector.ConnectAsync(fixture.Nodes[0].Node with { IdentityFile = garbage }, CancellationToken.None));

        Assert.Contains(missing.IdentityFile!, first.Message, StringComparison.Ordinal);
        Assert.Contains(missing.Name, first.Message, StringComparison.Ordinal);
        Assert.Contains(garbage, second.Message, StringComparison.Ordinal);
    }

    [SshdFact]
    public async Task ConnectAsync_NoKeyNoPassword_UsesTheDefaultKeysThatExist()
    {
        using var dir = new TempDirectory("wf-ssh-tests");
        var node = fixture.Nodes[0].Node with { IdentityFile = null };
        var options = fixture.Options(dir.Path, fixture.AllKnownHosts) with
        {
            DefaultIdentityFiles = [Path.Combine(dir.Path, "id_missing"), fixture.Keys.PrivateKeyPath],
        };

        await using (var session = await new SshNetConnector(options, TimeProvider.System).ConnectAsync(node, CancellationToken.None).WaitAsync(Deadline))
        {
            Assert.Equal(0, (await session.RunAsync("true", Deadline, CancellationToken.None)).ExitCode);
        }

        var none = options with { DefaultIdentityFiles = [Path.Combine(dir.Path, "id_missing")] };
        var error = await Assert.ThrowsAsync<SshNodeException>(() => new SshNetConnector(none, TimeProvider.System).ConnectAsync(node, CancellationToken.None));
        Assert.Contains("no identity_file or password", error.Message, StringComparison.Ordinal);
        Assert.Contains("id_missing", error.Message, StringComparison.Ordinal);
    }

    [SshdFact]
    public async Task ConnectAsync_EncryptedKeyFile_ErrorSaysPassphrase()
    {
        using var dir = new TempDirectory("wf-ssh-tests");
        var key = Path.Combine(dir.Path, "locked");
        await NetworkNamespace.RunAsync("ssh-keygen", "-q", "-t", "ed25519", "-N", "secret-phrase", "-f", key);
        var connector = new SshNetConnector(fixture.Options(dir.Path, fixture.AllKnownHosts), TimeProvider.System);

        var error = await Assert.ThrowsAsync<SshNodeException>(
            () => connector.ConnectAsync(fixture.Nodes[0].Node with { IdentityFile = key }, CancellationToken.None));

        Assert.Contains(key, error.Message, StringComparison.Ordinal);
        Assert.Contains("passphrase", error.Message, StringComparison.Ordinal);
    }

    [SshdFact]
    public async Task ConnectAsync_UnknownHostKey_TellsToAcceptNew()
    {
        using var dir = new TempDirectory("wf-ssh-tests");
        var connector = new SshNetConnector(fixture.Options(dir.Path, ""), TimeProvider.System);

        var error = await Assert.ThrowsAsync<SshNodeException>(() => connector.ConnectAsync(fixture.Nodes[0].Node, CancellationToken.None).WaitAsync(Deadline));

        Assert.Contains("wf ssh up --accept-new", error.Message, StringComparison.Ordinal);
        Assert.Contains(fixture.Nodes[0].Address.ToString(), error.Message, StringComparison.Ordinal);
        Assert.Contains(Fingerprint(fixture.Nodes[0].HostPublicKey), error.Message, StringComparison.Ordinal);
    }

    [SshdFact]
    public async Task ConnectAsync_AcceptNew_RecordsKeyOwnerOnly_SecondConnectNeedsNoAccept()
    {
        using var dir = new TempDirectory("wf-ssh-tests");
        var accepting = fixture.Options(dir.Path, "", acceptNew: true);
        await using (var first = await new SshNetConnector(accepting, TimeProvider.System).ConnectAsync(fixture.Nodes[2].Node, CancellationToken.None).WaitAsync(Deadline))
        {
            Assert.True(first.IsConnected);
        }

        var recorded = await File.ReadAllTextAsync(accepting.AcceptedHostsFile);
        Assert.Equal(fixture.Nodes[2].KnownHostsLine + "\n", recorded);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(accepting.AcceptedHostsFile));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute,
            File.GetUnixFileMode(Path.GetDirectoryName(accepting.AcceptedHostsFile)!));

        await using var second = await new SshNetConnector(accepting with { AcceptNew = false }, TimeProvider.System)
            .ConnectAsync(fixture.Nodes[2].Node, CancellationToken.None).WaitAsync(Deadline);
        Assert.Equal(0, (await second.RunAsync("true", Deadline, CancellationToken.None)).ExitCode);
        Assert.Equal(recorded, await File.ReadAllTextAsync(accepting.AcceptedHostsFile));
    }

    [SshdFact]
    public async Task ConnectAsync_ChangedHostKey_NamesHostAndBothFingerprints_EvenWithAcceptNew()
    {
        using var dir = new TempDirectory("wf-ssh-tests");
        // Node 0's address recorded with node 1's key: what a reinstalled server, or a man in the middle, looks like.
        var wrong = $"{fixture.Nodes[0].Address} {fixture.Nodes[1].HostPublicKey}\n";
        var connector = new SshNetConnector(fixture.Options(dir.Path, wrong, acceptNew: true), TimeProvider.System);

        var error = await Assert.ThrowsAsync<SshNodeException>(() => connector.ConnectAsync(fixture.Nodes[0].Node, CancellationToken.None).WaitAsync(Deadline));

        Assert.Contains("HOST KEY CHANGED", error.Message, StringComparison.Ordinal);
        Assert.Contains(fixture.Nodes[0].Address.ToString(), error.Message, StringComparison.Ordinal);
        Assert.Contains(Fingerprint(fixture.Nodes[1].HostPublicKey), error.Message, StringComparison.Ordinal);
        Assert.Contains(Fingerprint(fixture.Nodes[0].HostPublicKey), error.Message, StringComparison.Ordinal);
    }

    [SshdFact]
    public async Task ConnectAsync_HashedKnownHostsEntry_IsKnown()
    {
        using var dir = new TempDirectory("wf-ssh-tests");
        var options = fixture.Options(dir.Path, fixture.Nodes[0].KnownHostsLine + "\n");
        await NetworkNamespace.RunAsync("ssh-keygen", "-H", "-f", options.KnownHostsFiles[0]);
        Assert.StartsWith("|1|", await File.ReadAllTextAsync(options.KnownHostsFiles[0]), StringComparison.Ordinal);

        await using var session = await new SshNetConnector(options, TimeProvider.System).ConnectAsync(fixture.Nodes[0].Node, CancellationToken.None).WaitAsync(Deadline);

        Assert.True(session.IsConnected);
    }

    [SshdFact]
    public async Task ConnectAsync_LinkDown_UnreachableNamingHostAndTries()
    {
        using var dir = new TempDirectory("wf-ssh-tests");
        var node = fixture.Nodes[1];
        var connector = new SshNetConnector(fixture.Options(dir.Path, fixture.AllKnownHosts), TimeProvider.System);
        await node.LinkDownAsync();
        try
        {
            var error = await Assert.ThrowsAsync<SshNodeException>(() => connector.ConnectAsync(node.Node, CancellationToken.None).WaitAsync(Deadline));

            Assert.Contains(node.Address.ToString(), error.Message, StringComparison.Ordinal);
            Assert.Contains("unreachable: 2 tries", error.Message, StringComparison.Ordinal);
            Assert.Contains("2 s connect timeout", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            await node.LinkUpAsync();
        }
    }

    [SshdFact]
    public async Task ConnectAsync_SshdKilled_RefusedAfterTries_AndConnectsOnceRestarted()
    {
        using var dir = new TempDirectory("wf-ssh-tests");
        var node = fixture.Nodes[2];
        var connector = new SshNetConnector(fixture.Options(dir.Path, fixture.AllKnownHosts), TimeProvider.System);
        await using var before = await connector.ConnectAsync(node.Node, CancellationToken.None).WaitAsync(Deadline);
        await node.KillSshdAsync();
        try
        {
            var error = await Assert.ThrowsAsync<SshNodeException>(() => connector.ConnectAsync(node.Node, CancellationToken.None).WaitAsync(Deadline));

            Assert.Contains(node.Address.ToString(), error.Message, StringComparison.Ordinal);
            Assert.Contains("connection refused", error.Message, StringComparison.Ordinal);
            Assert.Contains("2 tries", error.Message, StringComparison.Ordinal);
            await TestPoll.UntilAsync(() => !before.IsConnected, Deadline, "the session to a killed sshd shows as disconnected");
        }
        finally
        {
            await node.StartSshdAsync();
        }

        await using var after = await connector.ConnectAsync(node.Node, CancellationToken.None).WaitAsync(Deadline);
        Assert.True(after.IsConnected);
    }

    private static string Fingerprint(string publicKey) =>
        "SHA256:" + Convert.ToBase64String(SHA256.HashData(Convert.FromBase64String(publicKey.Split(' ')[1]))).TrimEnd('=');
}
