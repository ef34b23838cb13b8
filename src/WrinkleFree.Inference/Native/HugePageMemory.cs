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
    /// Allocates <paramref name="bytes"/>, not yet touched; from one huge page up it is rounded up to whole huge pages and
    /// advised (a smaller buffer would waste most of a 2 MiB page: it gets ordinary page-aligned memory). Free with
    /// <see cref="Free"/>.
    /// </summary>
    public static byte* Allocate(long bytes)
    {
        if (bytes < HugePageBytes)
        {
            return (byte*)NativeMemory.AlignedAlloc((nuint)bytes, 4096);
        }

        var size = (nuint)((bytes + HugePageBytes - 1) & ~(long)(HugePageBytes - 1));
        var p = (byte*)NativeMemory.AlignedAlloc(size, HugePageBytes);
        if (OperatingSystem.IsLinux())
        {
            // Best effort: a kernel without THP refuses, and the memory works the same with small pages.
            _ = LibC.madvise((nint)p, size, MadvHugePage);
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
