namespace WrinkleFree.Providers.Cloud;

/// <summary>One machine type of a cloud: its vCPUs, memory and on-demand list price (used only to rank candidates).</summary>
public sealed record MachineType(string Infra, string Name, int Vcpus, double MemoryGiB, double OnDemandPerHour)
{
    /// <summary>"r7i.8xlarge (32 vCPUs, 256 GiB)" for messages.</summary>
    public override string ToString() =>
        FormattableString.Invariant($"{Name} ({Vcpus} vCPUs, {MemoryGiB:0.#} GiB)");
}
