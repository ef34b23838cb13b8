using System.Globalization;
using System.Runtime.InteropServices;
using WrinkleFree.Inference.Native;

namespace WrinkleFree.Inference.Tests.Native;

public sealed unsafe class HugePageMemoryTests
{
    [Fact]
    public void Allocate_IsHugePageAligned_HoldsData_AndIsBackedByHugePagesWhereThpIsOn()
    {
        const long length = 8L << 20;
        using var memory = new HugePageMemory(length);
        Assert.Equal(0, (long)memory.Pointer % HugePageMemory.HugePageBytes);
        var span = new Span<byte>(memory.Pointer, (int)length);
        for (var i = 0; i < span.Length; i += 4096)
        {
            span[i] = (byte)(i >> 12);
        }

        Assert.Equal(5, span[5 * 4096]);
        if (ThpMode() is "always" or "madvise")
        {
            // The kernel backs the advised, touched range with 2 MiB pages: its mapping reports AnonHugePages.
            Assert.True(AnonHugePagesKb((nint)memory.Pointer) >= 2048, "no huge pages back the advised range");
        }
    }

    [Fact]
    public void Allocate_BelowOneHugePage_GetsOrdinaryPages()
    {
        using var memory = new HugePageMemory(100_000);
        Assert.Equal(0, (long)memory.Pointer % 4096);
        new Span<byte>(memory.Pointer, 100_000).Fill(7);
        if (ThpMode() == "madvise")
        {
            // Not advised, so not huge (with THP "always" the heap it comes from may be huge anyway).
            Assert.Equal(0, AnonHugePagesKb((nint)memory.Pointer));
        }
    }

    [Fact]
    public void Allocate_AfterTheProcessFreedLargeBuffers_StillGetsHugePages()
    {
        // A 24 MiB free raises glibc's mmap threshold, so the next 8 MiB malloc comes from the heap; touching and freeing it
        // leaves populated small pages there, which an allocator-backed buffer would be handed again (the flake this fixes).
        var big = (byte*)NativeMemory.Alloc(24 << 20);
        new Span<byte>(big, 24 << 20).Fill(1);
        NativeMemory.Free(big);
        var heap = (byte*)NativeMemory.Alloc(10 << 20);
        new Span<byte>(heap, 10 << 20).Fill(2);
        NativeMemory.Free(heap);

        for (var i = 0; i < 3; i++)
        {
            using var memory = new HugePageMemory(8L << 20);
            new Span<byte>(memory.Pointer, 8 << 20).Fill(3);
            if (ThpMode() is "always" or "madvise")
            {
                Assert.True(AnonHugePagesKb((nint)memory.Pointer) >= 2048, $"allocation {i}: no huge pages back the advised range");
            }
        }
    }

    [Fact]
    public void Dispose_Twice_IsHarmless_AndThePointerIsThenRefused()
    {
        var memory = new HugePageMemory(4096);
        memory.Dispose();
        memory.Dispose();
        Assert.Throws<ObjectDisposedException>(() => (nint)memory.Pointer);
    }

    private static string? ThpMode()
    {
        const string path = "/sys/kernel/mm/transparent_hugepage/enabled";
        if (!File.Exists(path))
        {
            return null;
        }

        var text = File.ReadAllText(path);
        var start = text.IndexOf('[');
        return start < 0 ? null : text[(start + 1)..text.IndexOf(']')];
    }

    /// <summary>AnonHugePages of the mapping in /proc/self/smaps that contains <paramref name="address"/>.</summary>
    private static long AnonHugePagesKb(nint address)
    {
        var inside = false;
        foreach (var line in File.ReadLines("/proc/self/smaps"))
        {
            var dash = line.IndexOf('-');
            var space = line.IndexOf(' ');
            if (dash > 0 && space > dash && ulong.TryParse(line[..dash], NumberStyles.HexNumber, null, out var lo)
                && ulong.TryParse(line[(dash + 1)..space], NumberStyles.HexNumber, null, out var hi))
            {
                inside = (ulong)address >= lo && (ulong)address < hi;
            }
            else if (inside && line.StartsWith("AnonHugePages:", StringComparison.Ordinal))
            {
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }
}
