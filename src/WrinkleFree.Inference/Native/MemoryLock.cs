using System.Runtime.InteropServices;

namespace WrinkleFree.Inference.Native;

/// <summary>Locks a model's mapping in RAM (<c>--mlock</c>) so weights never swap; explains RLIMIT_MEMLOCK when it fails.</summary>
public static class MemoryLock
{
    /// <summary>Locks [address, address+length); throws <see cref="InvalidOperationException"/> naming the limit when refused.</summary>
    public static void Lock(nint address, long length)
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("--mlock is supported on Linux only");
        }

        if (LibC.mlock(address, (nuint)length) == 0)
        {
            return;
        }

        var errno = Marshal.GetLastPInvokeError();
        var limit = LibC.getrlimit(LibC.RlimitMemlock, out var rl) == 0 ? rl.Current : 0;
        var limitText = limit == ulong.MaxValue ? "unlimited" : $"{limit} bytes";
        throw new InvalidOperationException(
            $"mlock of {length} bytes failed (errno {errno}): RLIMIT_MEMLOCK is {limitText}. Raise it (ulimit -l unlimited, "
            + "LimitMEMLOCK=infinity in a systemd unit, or the container's memlock ulimit) or run without --mlock / MLOCK=true.");
    }

    public static void Unlock(nint address, long length)
    {
        if (OperatingSystem.IsLinux())
        {
            _ = LibC.munlock(address, (nuint)length);
        }
    }
}
