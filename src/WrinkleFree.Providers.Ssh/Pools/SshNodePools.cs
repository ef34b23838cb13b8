namespace WrinkleFree.Providers.Ssh.Pools;

/// <summary>
/// The node pools of a SkyPilot <c>ssh_node_pools.yaml</c> (pool name → <c>user</c>, <c>identity_file</c>,
/// <c>password</c>, <c>port</c>, <c>hosts</c>), plus our <c>proxy_jump</c> and <c>replicas_per_node</c>, so a file that
/// works with <c>sky ssh up</c> works here unchanged. Parsing is strict: an unknown key is an error naming its path.
/// </summary>
public sealed class SshNodePools
{
    /// <summary>The file name both SkyPilot and WrinkleFree use.</summary>
    public const string FileName = "ssh_node_pools.yaml";

    private SshNodePools(string? file, IReadOnlyList<SshNodePool> pools)
    {
        File = file;
        Pools = pools;
    }

    /// <summary>The file the pools came from, if any.</summary>
    public string? File { get; }

    /// <summary>The pools in file order.</summary>
    public IReadOnlyList<SshNodePool> Pools { get; }

    /// <summary>
    /// <c>$WF_HOME/ssh_node_pools.yaml</c> when it exists, else SkyPilot's <c>~/.sky/ssh_node_pools.yaml</c> (which may
    /// not exist either; <see cref="Load"/> then says so).
    /// </summary>
    public static string DefaultPath(string home)
    {
        ArgumentNullException.ThrowIfNull(home);
        var ours = Path.Combine(home, FileName);
        return System.IO.File.Exists(ours)
            ? ours
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".sky", FileName);
    }

    /// <summary>Reads and parses the file at <paramref name="path"/>; every error is a <see cref="SshPoolFileException"/> naming it.</summary>
    public static SshNodePools Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string text;
        try
        {
            text = System.IO.File.ReadAllText(path);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            throw new SshPoolFileException(path, "", 0, 0,
                $"cannot read the node pool file ({error.Message}); write one in SkyPilot's format (pool name → user, identity_file, hosts)");
        }

        return Parse(text, path);
    }

    /// <summary>Parses <paramref name="yaml"/>; <paramref name="file"/> (a file name) prefixes error messages.</summary>
    public static SshNodePools Parse(string yaml, string? file = null) => new(file, SshPoolFileParser.Parse(yaml, file));

    /// <summary>The pool named <paramref name="name"/>; throws <see cref="SshPoolFileException"/> listing the pools there are.</summary>
    public SshNodePool Get(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        foreach (var pool in Pools)
        {
            if (string.Equals(pool.Name, name, StringComparison.Ordinal))
            {
                return pool;
            }
        }

        throw new SshPoolFileException(File, "", 0, 0,
            $"no pool named '{name}'; pools here: {(Pools.Count == 0 ? "(none)" : string.Join(", ", Pools.Select(p => p.Name)))}");
    }
}
