using System.Runtime.InteropServices;

namespace WrinkleFree.Inference.Native;

/// <summary>The few libc calls the engine needs (mlock for weights, getrlimit to explain a failure, madvise to drop repacked tensors' pages).</summary>
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

    [StructLayout(LayoutKind.Sequential)]
    public struct RLimit
    {
        public ulong Current;
        public ulong Maximum;
    }
}
