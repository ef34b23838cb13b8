namespace WrinkleFree.Platform.Processes;

/// <summary>
/// An executable /bin/sh script that runs a fixed command with the caller's arguments (the `wf` that replicas and job
/// tasks find first on their PATH), each word single-quoted so paths with spaces or quotes survive.
/// </summary>
public static class CommandShim
{
    private const UnixFileMode Executable = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
        | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;

    /// <summary>Writes <paramref name="folder"/>/<paramref name="name"/> (atomically) and returns the folder.</summary>
    public static string Write(string folder, string name, IEnumerable<string> command)
    {
        var words = command.Select(w => "'" + w.Replace("'", "'\\''", StringComparison.Ordinal) + "'");
        Directory.CreateDirectory(folder);

        // Temp file + rename: a process starting while the shim is rewritten runs the old or the new one, never half a
        // script. No fsync: the shim is rewritten at every start, so losing it to a power cut costs nothing.
        var path = Path.Combine(folder, name);
        var temp = $"{path}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        File.WriteAllText(temp, $"#!/bin/sh\nexec {string.Join(' ', words)} \"$@\"\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(temp, Executable);
        }

        File.Move(temp, path, overwrite: true);
        return folder;
    }
}
