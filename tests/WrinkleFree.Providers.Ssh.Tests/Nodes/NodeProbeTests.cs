using WrinkleFree.Providers.Ssh.Nodes;
using WrinkleFree.Providers.Ssh.Pools;
using WrinkleFree.Providers.Ssh.Sessions;
using WrinkleFree.Providers.Ssh.Tests.Support;
using WrinkleFree.Testing;

namespace WrinkleFree.Providers.Ssh.Tests.Nodes;

public sealed class NodeProbeTests
{
    private static readonly SshNode Node = new() { Pool = "p", Host = "10.0.0.7", User = "ops" };

    [Fact]
    public async Task ReadAsync_ThisMachine_ReadsItsShape()
    {
        using var root = new TempDirectory("wf-ssh-tests");
        await using var session = new LocalShellSession(Node);

        var facts = await NodeProbe.ReadAsync(session, root.Path, TestTimeout.Token());

        Assert.Equal(Environment.ProcessorCount, facts.Cores);
        Assert.True(facts.MemoryTotalBytes > 0 && facts.MemoryAvailableBytes <= facts.MemoryTotalBytes);
        Assert.True(facts.DiskFreeBytes > 0);
        Assert.Equal(root.Path, facts.Layout.Root);
        Assert.Equal(Environment.OSVersion.Version.Major.ToString(System.Globalization.CultureInfo.InvariantCulture), facts.Kernel.Split('.')[0]);
        Assert.False(string.IsNullOrEmpty(facts.Arch));
        Assert.Null(facts.WfVersion);
        Assert.Empty(facts.Replicas);
        Assert.False(string.IsNullOrEmpty(facts.BootId));
        Assert.Equal(File.ReadAllText("/proc/sys/kernel/random/boot_id").Trim(), facts.BootId);
        var cpuinfo = File.ReadAllText("/proc/cpuinfo");
        Assert.Equal(cpuinfo.Contains(" avx2", StringComparison.Ordinal), facts.CpuFlags.Contains("avx2"));
        Assert.Equal(Directory.Exists("/run/systemd/system"), facts.Systemd);
    }

    [Fact]
    public async Task ReadAsync_InstalledWf_ReportsItsVersion()
    {
        using var root = new TempDirectory("wf-ssh-tests");
        Directory.CreateDirectory(Path.Combine(root.Path, "bin"));
        var wf = Path.Combine(root.Path, "bin", "wf");
        File.WriteAllText(wf, "#!/bin/sh\necho 1.4.2+abc\n");
        File.SetUnixFileMode(wf, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        await using var session = new LocalShellSession(Node);

        var facts = await NodeProbe.ReadAsync(session, root.Path, TestTimeout.Token());

        Assert.Equal("1.4.2+abc", facts.WfVersion);
    }

    [Fact]
    public void Parse_Flags_SummarisesTheKernelsTheEngineCanUse()
    {
        Assert.Equal("AVX-512+VNNI", Parse("fpu avx2 avx512f avx512bw avx512_vnni").Simd);
        Assert.Equal("AVX-512", Parse("avx2 avx512f avx512bw").Simd);
        Assert.Equal("AVX2+VNNI", Parse("avx2 avx_vnni avx512f").Simd);
        Assert.Equal("AVX2", Parse("sse4_2 avx2").Simd);
        Assert.Equal("portable", Parse("fp asimd").Simd);
    }

    [Theory]
    [InlineData("")]
    [InlineData("Welcome to Ubuntu!\nLast login: yesterday")]
    [InlineData("wf-probe=1\nuid=0\nroot=/opt/wrinklefree\ncores=lots\nmem_total_kb=100")]
    [InlineData("wf-probe=1\nuid=0\nroot=/opt/wrinklefree\ncores=4")]
    public void Parse_Garbage_IsAnErrorNamingTheNode(string stdout)
    {
        var e = Assert.Throws<SshNodeException>(() => NodeProbe.Parse(Node, stdout));

        Assert.StartsWith("ops@10.0.0.7: ", e.Message, StringComparison.Ordinal);
        Assert.Contains("probe", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_ReplicaLines_ReadsServiceIdStateAndProcess()
    {
        var facts = NodeProbe.Parse(Node, Answer("avx2")
            + "replica\tmy-svc-3\tsupervisor\trunning\t4242\t987654\t8081\t\n"
            + "replica\tother-12\tsystemd\texited\t\t\t8082\t1\n"
            + "replica\tnot ours\tsupervisor\trunning\t1\t1\t1\t\n"
            + "bootid\tb-1\n");

        Assert.Equal(2, facts.Replicas.Count);
        var running = facts.Replicas[0];
        Assert.Equal(("my-svc", 3, 4242, 987654L, 8081), (running.Replica.Service, running.Replica.ReplicaId, running.Replica.Pid!.Value, running.Replica.StartTime!.Value, running.Replica.Port));
        Assert.Equal("b-1", running.Replica.BootId);
        Assert.Equal(Service.Providers.ProviderReplicaState.Running, running.Status.State);
        var exited = facts.Replicas[1];
        Assert.Equal(NodeRuntimeMode.Systemd, exited.Replica.Mode);
        Assert.Equal("wrinklefree-other-12.service", exited.Replica.UnitName);
        Assert.Equal(1, exited.Status.ExitCode);
    }

    private static NodeFacts Parse(string flags) => NodeProbe.Parse(Node, Answer(flags));

    private static string Answer(string flags) =>
        $"wf-probe=1\nuid=0\nroot=/opt/wrinklefree\ncores=16\nmem_total_kb=65536000\nmem_available_kb=60000000\ndisk_free_kb=1000\nflags= {flags}\nkernel=6.1.0\narch=x86_64\nsystemd=1\n";
}
