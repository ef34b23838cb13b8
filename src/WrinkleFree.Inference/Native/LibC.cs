using System.Runtime.InteropServices;

namespace WrinkleFree.Inference.Native;

/// <summary>
/// The few libc calls the engine needs (mlock for weights, getrlimit to explain a failure, madvise to drop repacked tensors'
/// pages and to ask for huge pages, mmap/munmap for memory that has never been touched).
/// </summary>
internal static partial class LibC
{
    public const int RlimitMemlock = 8;
    public const int Enomem = 12;
    public const int Eperm = 1;

    [LibraryImport("libc", SetLastError = true)]
    public static partial int mlock(nint address, nuint length);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int munlock(nint address, nuint length);

    public const int MadvDontNeed = 4;

    [LibraryImport("libc", SetLastError = true)]
    public static partial int madvise(nint address, nuint length, int advice);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int getrlimit(int resource, out RLimit limit);

    public const int ProtRead = 1;
    public const int ProtWrite = 2;
    public const int MapPrivate = 2;
    public const int MapAnonymous = 0x20;
    public static readonly nint MapFailed = -1;

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint mmap(nint address, nuint length, int protection, int flags, int fd, nint offset);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int munmap(nint address, nuint length);

    [StructLayout(LayoutKind.Sequential)]
    public struct RLimit
    {
        public ulong Current;
        public ulong Maximum;
    }
}
