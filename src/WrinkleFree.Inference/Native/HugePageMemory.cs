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

    public byte* Pointer => _pointer != null ? _pointer : throw new ObjectDisposedException(nameof(HugePageMemory));

    public long Length { get; }

    /// <summary>
    /// Allocates <paramref name="bytes"/>, not yet touched, 2 MiB-aligned once it spans a huge page; the whole huge pages
    /// are advised and the rest (a buffer's tail, a buffer under 2 MiB) keeps 4 KiB pages, so no huge page is touched for a
    /// few bytes of it (a 4.4 MB tensor rounded up to 6 MiB would hold 1.6 MB of nothing). Free with <see cref="Free"/>.
    /// </summary>
    public static byte* Allocate(long bytes)
    {
        if (bytes < HugePageBytes)
        {
            return (byte*)NativeMemory.AlignedAlloc((nuint)bytes, 4096);
        }

        var p = (byte*)NativeMemory.AlignedAlloc((nuint)bytes, HugePageBytes);
        if (OperatingSystem.IsLinux())
        {
            // Best effort: a kernel without THP refuses, and the memory works the same with small pages.
            _ = LibC.madvise((nint)p, (nuint)(bytes & ~(long)(HugePageBytes - 1)), MadvHugePage);
        }

        return p;
    }

    public static void Free(byte* p) => NativeMemory.AlignedFree(p);

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
