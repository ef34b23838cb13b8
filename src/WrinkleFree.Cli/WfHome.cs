namespace WrinkleFree.Cli;

/// <summary>WrinkleFree's state folder: $WF_HOME, else ~/.wrinklefree.</summary>
internal static class WfHome
{
    public static string Path => Environment.GetEnvironmentVariable("WF_HOME") is { Length: > 0 } home
        ? home
        : System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".wrinklefree");
}
