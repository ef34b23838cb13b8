using Microsoft.Extensions.Time.Testing;
using WrinkleFree.Providers.Ssh.Pools;
using WrinkleFree.Providers.Ssh.Sessions;
using WrinkleFree.Testing;
using WrinkleFree.Testing.Ssh;

namespace WrinkleFree.Providers.Ssh.Tests.Sessions;

/// <summary>Retries on a virtual clock: network errors are retried with doubling waits, authentication failures never.</summary>
[Collection(SshNodesCollection.Name)]
public sealed class SshNetConnectorRetryTests(SshNodesFixture fixture)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [SshdFact]
    public async Task ConnectAsync_Refused_RetriesWithDoublingWaitsOnTheInjectedClock()
    {
        using var dir = new TempDirectory("wf-ssh-tests");
        var time = new FakeTimeProvider();
        var options = fixture.Options(dir.Path, "") with { Retries = 3, RetryDelay = TimeSpan.FromSeconds(10) };
        // A loopback port nothing listens on: refused at once, every time.
        var node = new SshNode { Pool = "p", Host = "127.0.0.1", Port = FreePort.Next(), User = "u", IdentityFile = fixture.Keys.PrivateKeyPath };
        var connect = new SshNetConnector(options, time).ConnectAsync(node, CancellationToken.None);

        // Move the virtual clock a second at a time until the connector gives up; no real time is waited out.
        var advanced = TimeSpan.Zero;
        using var deadline = new CancellationTokenSource(Deadline);
        using var tick = new PeriodicTimer(TimeSpan.FromMilliseconds(10));
        while (!connect.IsCompleted && await tick.WaitForNextTickAsync(deadline.Token))
        {
            time.Advance(TimeSpan.FromSeconds(1));
            advanced += TimeSpan.FromSeconds(1);
        }

        var error = await Assert.ThrowsAsync<SshNodeException>(() => connect);
        Assert.Contains("unreachable: 3 tries", error.Message, StringComparison.Ordinal);
        Assert.Contains("connection refused", error.Message, StringComparison.Ordinal);
        // 10 s before the second try and 20 s before the third: it cannot have given up before 30 virtual seconds.
        Assert.True(advanced >= TimeSpan.FromSeconds(30), $"gave up after {advanced} of virtual time");
    }

    [SshdFact]
    public async Task ConnectAsync_AuthenticationRefused_NotRetried()
    {
        using var dir = new TempDirectory("wf-ssh-tests");
        var time = new FakeTimeProvider();
        var options = fixture.Options(dir.Path, fixture.AllKnownHosts) with { Retries = 3, RetryDelay = TimeSpan.FromHours(1) };
        var node = fixture.Nodes[0].PasswordNode with { Password = "wrong-password" };

        // With the clock never moved, a retry would wait an hour: failing at all proves there was none.
        var error = await Assert.ThrowsAsync<SshNodeException>(
            () => new SshNetConnector(options, time).ConnectAsync(node, CancellationToken.None).WaitAsync(Deadline));

        Assert.Contains("authentication as wftest with its password was refused", error.Message, StringComparison.Ordinal);
    }
}
