using WrinkleFree.Providers.Ssh.Nodes;

namespace WrinkleFree.Providers.Ssh.Tests.Nodes;

public sealed class NodeCapacityTests
{
    [Theory]
    [InlineData(16, 64.0, 4.0, 8.0, null, 4)]    // cores bind
    [InlineData(16, 64.0, 2.0, 16.0, null, 4)]   // memory binds
    [InlineData(16, 64.0, 8.0, 8.0, null, 2)]
    [InlineData(16, 64.0, 3.0, null, null, 5)]   // floor, memory not asked
    [InlineData(16, 64.0, null, 8.0, null, 8)]   // exact division is not lost to rounding
    [InlineData(16, 64.0, 32.0, 8.0, null, 0)]   // does not fit at all
    [InlineData(16, 64.0, null, null, null, 1)]  // nothing asked: one per node
    [InlineData(16, 64.0, 4.0, 8.0, 7, 7)]       // replicas_per_node wins
    [InlineData(16, 64.0, 4.0, 8.0, 0, 0)]
    public void Replicas_FitsByCpusAndMemory_UnlessThePoolSays(int cores, double nodeGiB, double? cpus, double? memoryGiB, int? perNode, int expected)
    {
        Assert.Equal(expected, NodeCapacity.Replicas(cores, nodeGiB, cpus, memoryGiB, perNode));
    }

    [Fact]
    public void Free_SubtractsRunningReplicas()
    {
        var facts = NodeProbe.Parse(new WrinkleFree.Providers.Ssh.Pools.SshNode { Pool = "p", Host = "h", User = "u" },
            "wf-probe=1\nuid=0\nroot=/opt/wrinklefree\ncores=16\nmem_total_kb=67108864\n"
            + "replica\ta-1\tsupervisor\trunning\t10\t20\t8000\t\n"
            + "replica\ta-2\tsupervisor\texited\t\t\t8001\t0\n");

        Assert.Equal(4, NodeCapacity.Replicas(facts, 4, 8));
        Assert.Equal(3, NodeCapacity.Free(facts, 4, 8));
        Assert.Equal(0, NodeCapacity.Free(facts, 16, null));
    }
}
