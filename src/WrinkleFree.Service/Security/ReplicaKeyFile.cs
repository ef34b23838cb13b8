using WrinkleFree.Platform.Files;
using WrinkleFree.Platform.Home;

namespace WrinkleFree.Service.Security;

/// <summary>
/// The daemon's internal replica key: WF_HOME/replica.key (0600), made once and kept across daemon restarts so adopted
/// replicas still accept it. Replicas the daemon launches get its path in <see cref="Variable"/> (`wf replica` reads it
/// like --api-key-file); the endpoint sends it in place of the client's key; Prometheus reads it as its credentials file.
/// </summary>
public static class ReplicaKeyFile
{
    /// <summary>The file name under the home.</summary>
    public const string FileName = "replica.key";

    /// <summary>The environment variable `wf replica` reads its key file from (same as --api-key-file).</summary>
    public const string Variable = "WF_API_KEY_FILE";

    /// <summary>The key file of <paramref name="home"/>.</summary>
    public static string PathIn(string home) => Path.Combine(home, FileName);

    /// <summary>Reads the home's replica key, creating the file with a new random key when there is none.</summary>
    public static string Ensure(string home)
    {
        var path = PathIn(home);
        if (TryRead(path) is { } existing)
            return existing;
        WfHome.CreatePrivateDirectory(home);
        var key = ApiKeySecret.NewToken();
        AtomicFile.WriteAllText(path, key + "\n", WfHome.PrivateFileMode);
        return key;
    }

    private static string? TryRead(string path)
    {
        try
        {
            var text = File.ReadAllText(path).Trim();
            return text.Length > 0 ? text : null;
        }
        catch (FileNotFoundException)
        {
            return null;
        }
    }
}
