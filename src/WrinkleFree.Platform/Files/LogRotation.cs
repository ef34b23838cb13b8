using System.Globalization;

namespace WrinkleFree.Platform.Files;

/// <summary>
/// Size-based rotation of a log file, done by the process that writes it: a timer checks the size, and past the limit
/// NAME.1 .. NAME.(keep-1) shift to NAME.2 .. NAME.keep (the oldest is dropped), NAME is copied to NAME.1 and truncated.
/// </summary>
/// <remarks>
/// Copy-truncate, as logrotate's <c>copytruncate</c>, rather than rename-and-reopen: the writer's descriptor is its stdout,
/// opened by whoever launched it (<see cref="Processes.SessionProcess"/>, systemd), and cannot be reopened by the writer;
/// after a rename it would go on writing into NAME.1 forever. With copy-truncate that descriptor stays valid. The price is
/// a window: a line written after the copy's last read and before the truncate is lost. The copy reads again what arrived
/// while it ran, so the window is one read and one ftruncate long. The writer must hold the file in append mode
/// (O_APPEND, as SessionProcess's <c>&gt;&gt;</c> opens it), or it goes on writing at its old offset after the truncate
/// and leaves a hole of zeros; <see cref="WatchStandardOutput"/> refuses such a stdout.
/// </remarks>
public sealed class LogRotation : IDisposable
{
    /// <summary>The size at which a log rotates unless told otherwise (WF_LOG_MAX_BYTES, --log-max-bytes).</summary>
    public const long DefaultMaxBytes = 50L << 20;

    /// <summary>Rotated files kept beside the live one (NAME.1 newest .. NAME.3 oldest).</summary>
    public const int DefaultKeep = 3;

    /// <summary>How often the size is checked: a stat per second costs nothing and bounds the overshoot.</summary>
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(1);

    private const string StandardOutputLink = "/proc/self/fd/1";

    // O_APPEND in the octal "flags:" of /proc/PID/fdinfo/FD (asm-generic/fcntl.h).
    private const int AppendFlag = 0x400;

    private readonly Func<string?> _path;
    private readonly ITimer? _timer;
    private readonly Action<Exception>? _onError;
    private int _rotating;

    /// <param name="path">Resolves the file to rotate at each check (null: nothing to rotate now).</param>
    private LogRotation(Func<string?> path, long maxBytes, int keep, TimeProvider? time, TimeSpan interval, Action<Exception>? onError)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBytes, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(keep, 1);
        _path = path;
        MaxBytes = maxBytes;
        Keep = keep;
        _onError = onError;
        _timer = time?.CreateTimer(_ => Check(), null, interval, interval);
    }

    /// <summary>The size at or above which the file rotates.</summary>
    public long MaxBytes { get; }

    /// <summary>Rotated files kept (NAME.1 .. NAME.Keep).</summary>
    public int Keep { get; }

    /// <summary>Rotations done so far.</summary>
    public int Rotations { get; private set; }

    /// <summary>Rotates <paramref name="path"/> only when <see cref="RotateIfNeeded"/> is called (no timer).</summary>
    public static LogRotation ForFile(string path, long maxBytes, int keep = DefaultKeep)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return new LogRotation(() => path, maxBytes, keep, null, default, null);
    }

    /// <summary>
    /// Rotates the file this process's stdout is redirected to, checked every <paramref name="interval"/> (default
    /// <see cref="DefaultInterval"/>). Returns null, with the reason in <paramref name="whyNot"/>, when stdout is not a
    /// regular file (a terminal, a pipe, journald) or is not in append mode.
    /// </summary>
    /// <param name="onError">Called with a rotation that failed (a full disk); the next check tries again.</param>
    public static LogRotation? WatchStandardOutput(long maxBytes, TimeProvider time, out string? whyNot, int keep = DefaultKeep, TimeSpan? interval = null, Action<Exception>? onError = null)
    {
        ArgumentNullException.ThrowIfNull(time);
        var file = StandardOutputFile();
        if (file is null)
        {
            whyNot = "stdout is not a file";
            return null;
        }

        if (!IsAppendMode(1))
        {
            whyNot = $"stdout ({file}) is not open in append mode (>>, systemd's StandardOutput=append:), so copy-truncate would leave a hole";
            return null;
        }

        whyNot = null;
        // Resolved at every check: if someone renames the file, /proc follows it.
        return new LogRotation(StandardOutputFile, maxBytes, keep, time, interval ?? DefaultInterval, onError);
    }

    /// <summary>The regular file stdout points to, or null (a terminal, pipe, socket, or a deleted file).</summary>
    public static string? StandardOutputFile()
    {
        try
        {
            // A pipe or socket reads "pipe:[123]"; a deleted file "... (deleted)"; devices live under /dev.
            var target = new FileInfo(StandardOutputLink).LinkTarget;
            return target is not null && target.StartsWith('/') && !target.StartsWith("/dev/", StringComparison.Ordinal) && File.Exists(target)
                ? target
                : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>True when this process's descriptor <paramref name="fd"/> was opened with O_APPEND.</summary>
    public static bool IsAppendMode(int fd)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/self/fdinfo/{fd.ToString(CultureInfo.InvariantCulture)}"))
            {
                if (line.StartsWith("flags:", StringComparison.Ordinal))
                {
                    return (Convert.ToInt32(line["flags:".Length..].Trim(), 8) & AppendFlag) != 0;
                }
            }
        }
        catch (IOException)
        {
        }

        return false;
    }

    /// <summary>Rotates now if the file has reached <see cref="MaxBytes"/>; true when it rotated.</summary>
    public bool RotateIfNeeded()
    {
        // The timer's callbacks may overlap a slow copy; one rotation at a time.
        if (Interlocked.Exchange(ref _rotating, 1) != 0)
        {
            return false;
        }

        try
        {
            var path = _path();
            if (path is null || !File.Exists(path) || new FileInfo(path).Length < MaxBytes)
            {
                return false;
            }

            Rotate(path);
            Rotations++;
            return true;
        }
        finally
        {
            Volatile.Write(ref _rotating, 0);
        }
    }

    public void Dispose() => _timer?.Dispose();

    private void Check()
    {
        try
        {
            RotateIfNeeded();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _onError?.Invoke(e);
        }
    }

    private void Rotate(string path)
    {
        for (var i = Keep - 1; i >= 1; i--)
        {
            var older = Numbered(path, i);
            if (File.Exists(older))
            {
                File.Move(older, Numbered(path, i + 1), overwrite: true);
            }
        }

        using var source = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1 << 16);
        using var copy = new FileStream(Numbered(path, 1), FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 16);
        using var truncate = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, 1);
        source.CopyTo(copy);
        copy.Flush();
        // What the writer appended during the copy; the lost window is from this read's end to the truncate.
        source.CopyTo(copy);
        truncate.SetLength(0);
    }

    private static string Numbered(string path, int n) => path + "." + n.ToString(CultureInfo.InvariantCulture);
}
