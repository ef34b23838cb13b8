using WrinkleFree.Platform.Files;

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
        AtomicFile.WriteAllText(Path.Combine(folder, name), $"#!/bin/sh\nexec {string.Join(' ', words)} \"$@\"\n", Executable);
        return folder;
    }
}
