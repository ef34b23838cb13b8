using System.Net;
using System.Net.Sockets;
using WrinkleFree.Providers.Ssh.Nodes;
using WrinkleFree.Providers.Ssh.Pools;
using WrinkleFree.Providers.Ssh.Tests.Support;
using WrinkleFree.Testing;

namespace WrinkleFree.Providers.Ssh.Tests.Nodes;

public sealed class NodePortsTests
{
    private static readonly SshNode Node = new() { Pool = "p", Host = "10.0.0.5", User = "ops" };

    [Fact]
    public async Task PickAsync_HintListening_PicksAnotherFreePort()
    {
        using var root = new TempDirectory("wf-ssh-tests");
        var layout = NodeLayout.For(1000, "/home/ops", root.Path);
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var busy = ((IPEndPoint)listener.LocalEndpoint).Port;
        await using var session = new LocalShellSession(Node);

        var picked = await NodePorts.PickAsync(session, layout, busy, null, TestTimeout.Token());

        Assert.NotEqual(busy, picked);
        Assert.InRange(picked, NodePorts.RangeStart, NodePorts.RangeEnd);
    }

    [Fact]
    public async Task PickAsync_SkipsPortsOfReplicasAndTheCallersOwn()
    {
        using var root = new TempDirectory("wf-ssh-tests");
        var layout = NodeLayout.For(1000, "/home/ops", root.Path);
        Directory.CreateDirectory(layout.ReplicaDirectory("svc", 1));
        File.WriteAllText(layout.ReplicaDirectory("svc", 1) + "/port", "21001");
        await using var session = new LocalShellSession(Node);

        Assert.Equal(21002, await NodePorts.PickAsync(session, layout, 21002, null, TestTimeout.Token()));
        Assert.NotEqual(21001, await NodePorts.PickAsync(session, layout, 21001, null, TestTimeout.Token()));
        Assert.NotEqual(21002, await NodePorts.PickAsync(session, layout, 21002, new HashSet<int> { 21002 }, TestTimeout.Token()));
    }

    [Fact]
    public void Used_ReadsListeningSocketsOnly()
    {
        var used = NodePorts.Used("""
              sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
               0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 1
               1: 0100007F:1F91 0100007F:C350 01 00000000:00000000 00:00000000 00000000  1000        0 2
               0: 00000000000000000000000001000000:2328 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 3
            wf-ports
            8500
            """);

        Assert.Equal([8080, 8500, 9000], used.Order());
    }
}
