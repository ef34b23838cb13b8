namespace WrinkleFree.Platform.Home;

/// <summary>
/// WrinkleFree's state folder ($WF_HOME, else ~/.wrinklefree) and the owner-only permissions of what lives in it: the state
/// databases hold spec envs (secrets) and daemon.json the admin port, so neither may be readable by other local users.
/// </summary>
public static class WfHome
{
    /// <summary>The environment variable that moves the home.</summary>
    public const string Variable = "WF_HOME";

    /// <summary>rwx for the owner only.</summary>
    public const UnixFileMode PrivateDirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>rw for the owner only.</summary>
    public const UnixFileMode PrivateFileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>The home folder this process uses (not created).</summary>
    public static string Path => Resolve(Environment.GetEnvironmentVariable(Variable));

    /// <summary>The home for a given <c>WF_HOME</c> value: itself when set and non-empty, else <c>~/.wrinklefree</c>.</summary>
    public static string Resolve(string? variable) => variable is { Length: > 0 } home
        ? home
        : System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".wrinklefree");

    /// <summary>The logs folder under <paramref name="home"/>.</summary>
    public static string Logs(string home) => System.IO.Path.Combine(home, "logs");

    /// <summary>Creates <paramref name="path"/> (and missing parents) owner-only; an existing folder keeps its mode.</summary>
    public static string CreatePrivateDirectory(string path)
    {
        if (!Directory.Exists(path))
        {
            if (OperatingSystem.IsWindows())
            {
                Directory.CreateDirectory(path);
            }
            else
            {
                Directory.CreateDirectory(path, PrivateDirectoryMode);
            }
        }

        return path;
    }

    /// <summary>Creates an empty owner-only file at <paramref name="path"/> unless one exists (whose mode is then kept).</summary>
    public static void CreatePrivateFile(string path)
    {
        if (File.Exists(path))
        {
            return;
        }

        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = PrivateFileMode;
        }

        try
        {
            using var created = new FileStream(path, options);
        }
        catch (IOException) when (File.Exists(path))
        {
            // Another process created it first: theirs is as good as ours.
        }
    }
}
