using System.Runtime.InteropServices;

namespace WrinkleFree.Platform.Home;

/// <summary>
/// Makes everything a service process creates owner-only: the daemon, its supervisor and the endpoints write state
/// (spec envs are secrets), keys, certificates, logs with request ids and sockets, and the replicas they start inherit
/// the same file mode mask, so no file is world-readable between its creation and a chmod.
/// </summary>
public static partial class PrivateFiles
{
    /// <summary>Group and other get nothing: new files 0600, new folders 0700.</summary>
    public const int OwnerOnlyMask = 0b000_111_111;

    /// <summary>
    /// Sets this process's umask to <see cref="OwnerOnlyMask"/> (children inherit it), creates <paramref name="home"/>
    /// owner-only, and takes group/other access away from it when an older version left it open. Returns the previous
    /// mode of the home when it had to be tightened, else null.
    /// </summary>
    public static UnixFileMode? Secure(string home)
    {
        ArgumentNullException.ThrowIfNull(home);
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(home);
            return null;
        }

        _ = umask(OwnerOnlyMask);
        WfHome.CreatePrivateDirectory(home);
        var mode = File.GetUnixFileMode(home);
        const UnixFileMode others = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
            | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;
        if ((mode & others) == 0)
        {
            return null;
        }

        // Closing the home folder closes everything in it, whatever modes older files were created with.
        File.SetUnixFileMode(home, mode & ~others);
        return mode;
    }

    [LibraryImport("libc")]
    private static partial int umask(int mask);
}
