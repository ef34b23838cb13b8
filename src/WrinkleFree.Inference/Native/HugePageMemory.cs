using System.Runtime.InteropServices;

namespace WrinkleFree.Inference.Native;

/// <summary>
/// A large read-mostly native buffer (repacked weights, the bandwidth probe) on 2 MiB-aligned memory advised for
/// transparent huge pages before it is first touched. Streaming hundreds of MB through 4 KiB pages costs a TLB miss every
/// 4 KiB; with huge pages (THP in "madvise" mode, the Debian default) one entry covers 2 MiB. Where THP is off the advice
/// is refused and the buffer simply has small pages. Freed by <see cref="Dispose"/> or, failing that, the finalizer.
/// </summary>
internal sealed unsafe class HugePageMemory : IDisposable
{
    public const int HugePageBytes = 2 << 20;
    private const int MadvHugePage = 14;
    private byte* _pointer;

    public HugePageMemory(long length)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        Length = length;
        _pointer = Allocate(length);
    }

    ~HugePageMemory() => Release();

    public byte* Pointer
    {
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        get => _pointer != null ? _pointer : Disposed();
    }

    private static byte* Disposed() => throw new ObjectDisposedException(nameof(HugePageMemory));

    public long Length { get; }

    /// <summary>True when the buffer is a fresh anonymous mapping, which the kernel hands out zero-filled.</summary>
    public bool ZeroFilled => s_mapped.ContainsKey((nint)Pointer);

    // Live allocations made with mmap: their mapped lengths, for Free.
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<nint, nuint> s_mapped = new();

    /// <summary>
    /// Allocates <paramref name="bytes"/>, not yet touched, 2 MiB-aligned once it spans a huge page; the whole huge pages
    /// are advised and the rest (a buffer's tail, a buffer under 2 MiB) keeps 4 KiB pages, so no huge page is touched for a
    /// few bytes of it (a 4.4 MB tensor rounded up to 6 MiB would hold 1.6 MB of nothing). Free with <see cref="Free"/>.
    /// </summary>
    /// <remarks>
    /// On Linux a buffer of a huge page or more is a fresh anonymous mapping: the allocator would hand back memory freed
    /// earlier in the process (after a large free glibc raises its mmap threshold to 32 MiB), whose pages are already
    /// populated with 4 KiB pages that the advice no longer changes.
    /// </remarks>
    public static byte* Allocate(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bytes);
        if (bytes < HugePageBytes)
        {
            return (byte*)NativeMemory.AlignedAlloc((nuint)bytes, 4096);
        }

        var huge = (nuint)(bytes & ~(long)(HugePageBytes - 1));
        if (OperatingSystem.IsLinux() && Map(bytes) is var mapped && mapped != null)
        {
            // Best effort: a kernel without THP refuses, and the memory works the same with small pages.
            _ = LibC.madvise((nint)mapped, huge, MadvHugePage);
            return mapped;
        }

        var p = (byte*)NativeMemory.AlignedAlloc((nuint)bytes, HugePageBytes);
        if (OperatingSystem.IsLinux())
        {
            _ = LibC.madvise((nint)p, huge, MadvHugePage);
        }

        return p;
    }

    public static void Free(byte* p)
    {
        if (s_mapped.TryRemove((nint)p, out var length))
        {
            _ = LibC.munmap((nint)p, length);
            return;
        }

        NativeMemory.AlignedFree(p);
    }

    /// <summary>A 2 MiB-aligned anonymous mapping of at least <paramref name="bytes"/> (over-mapped, then trimmed); null on failure.</summary>
    private static byte* Map(long bytes)
    {
        var page = (nuint)Environment.SystemPageSize;
        var length = ((nuint)bytes + page - 1) & ~(page - 1);
        var span = length + HugePageBytes;
        var raw = LibC.mmap(0, span, LibC.ProtRead | LibC.ProtWrite, LibC.MapPrivate | LibC.MapAnonymous, -1, 0);
        if (raw == LibC.MapFailed)
        {
            return null;
        }

        var aligned = (raw + (HugePageBytes - 1)) & ~(nint)(HugePageBytes - 1);
        var head = (nuint)(aligned - raw);
        if (head > 0)
        {
            _ = LibC.munmap(raw, head);
        }

        var tail = span - head - length;
        if (tail > 0)
        {
            _ = LibC.munmap(aligned + (nint)length, tail);
        }

        s_mapped[aligned] = length;
        return (byte*)aligned;
    }

    public void Dispose()
    {
        Release();
        GC.SuppressFinalize(this);
    }

    private void Release()
    {
        var p = _pointer;
        _pointer = null;
        if (p != null)
        {
            Free(p);
        }
    }
}
