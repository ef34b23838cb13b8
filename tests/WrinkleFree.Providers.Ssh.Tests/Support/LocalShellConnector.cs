using WrinkleFree.Providers.Ssh.Pools;
using WrinkleFree.Providers.Ssh.Sessions;

namespace WrinkleFree.Providers.Ssh.Tests.Support;

/// <summary>
/// TEST DOUBLE for <see cref="ISshConnector"/>: hands out <see cref="LocalShellSession"/>s, and refuses the hosts named
/// in <paramref name="unreachable"/> with the error a real connector gives for a host that does not answer.
/// </summary>
internal sealed class LocalShellConnector(params string[] unreachable) : ISshConnector
{
    public Task<ISshSession> ConnectAsync(SshNode node, CancellationToken cancellationToken) =>
        unreachable.Contains(node.Host)
            ? throw new SshNodeException(node, "connection timed out; check that the host is up and port 22 is open")
            : Task.FromResult<ISshSession>(new LocalShellSession(node));
}
