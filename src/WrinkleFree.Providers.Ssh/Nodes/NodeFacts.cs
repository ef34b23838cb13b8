namespace WrinkleFree.Providers.Ssh.Nodes;

/// <summary>What one probe read from a node: its shape, CPU features, systemd, the installed wf and our replicas.</summary>
public sealed record NodeFacts
{
    /// <summary>The node, as messages name it.</summary>
    public required string Node { get; init; }

    public required int Cores { get; init; }

    public required long MemoryTotalBytes { get; init; }

    public required long MemoryAvailableBytes { get; init; }

    /// <summary>Free bytes on the file system of the install root (or its nearest existing parent).</summary>
    public required long DiskFreeBytes { get; init; }

    /// <summary>The CPU flags of interest the node has (avx512f, avx512bw, avx512_vnni, avx2, avx_vnni).</summary>
    public required IReadOnlySet<string> CpuFlags { get; init; }

    public required string Kernel { get; init; }

    public required string Arch { get; init; }

    /// <summary>Whether systemd is PID 1 and <c>systemctl</c> is there.</summary>
    public required bool Systemd { get; init; }

    public required int Uid { get; init; }

    /// <summary>Where the installed files live.</summary>
    public required NodeLayout Layout { get; init; }

    /// <summary>The installed serving wf's version line, or null when none is installed.</summary>
    public string? WfVersion { get; init; }

    public string? BootId { get; init; }

    /// <summary>Our replicas on the node (units or supervised processes), running or not.</summary>
    public required IReadOnlyList<NodeReplicaState> Replicas { get; init; }

    /// <summary>Total memory in GiB.</summary>
    public double MemoryGiB => MemoryTotalBytes / (1024.0 * 1024 * 1024);

    /// <summary>How replicas run here: units for root where systemd is usable, else the supervisor.</summary>
    public NodeRuntimeMode RuntimeMode => Systemd && Layout.IsRootUser ? NodeRuntimeMode.Systemd : NodeRuntimeMode.Supervisor;

    /// <summary>The kernels the engine can use: <c>AVX-512+VNNI</c>, <c>AVX-512</c>, <c>AVX2+VNNI</c>, <c>AVX2</c> or <c>portable</c>.</summary>
    public string Simd =>
        CpuFlags.Contains("avx512f") && CpuFlags.Contains("avx512bw") ? (CpuFlags.Contains("avx512_vnni") ? "AVX-512+VNNI" : "AVX-512")
        : CpuFlags.Contains("avx2") ? (CpuFlags.Contains("avx_vnni") ? "AVX2+VNNI" : "AVX2")
        : "portable";
}
