using System.Globalization;

namespace WrinkleFree.Providers.Ssh.Nodes;

/// <summary>
/// Where WrinkleFree's files live on one node: <c>/opt/wrinklefree</c> for root, else
/// <c>~/.local/share/wrinklefree-node</c> (with <c>~</c> as the node resolves it). Paths are the node's, never this
/// machine's; scripts quote them with <see cref="ShellQuote"/>.
/// </summary>
public sealed record NodeLayout
{
    /// <summary>The root folder for root logins.</summary>
    public const string SystemRoot = "/opt/wrinklefree";

    /// <summary>The root folder below the home of any other login.</summary>
    public const string UserRoot = ".local/share/wrinklefree-node";

    /// <summary>Where systemd units are written (root only: replicas of other logins run under the supervisor).</summary>
    public const string UnitDirectory = "/etc/systemd/system";

    /// <summary>The root folder on the node (absolute).</summary>
    public required string Root { get; init; }

    /// <summary>Whether the login is root, which alone may write system units.</summary>
    public bool IsRootUser { get; init; }

    /// <summary>The serving <c>wf</c> single-file build.</summary>
    public string Wf => Root + "/bin/wf";

    /// <summary>The folder of model files, each named by its SHA-256.</summary>
    public string Models => Root + "/models";

    /// <summary>The folder holding one folder per replica.</summary>
    public string Replicas => Root + "/replicas";

    /// <summary>The layout for a login with <paramref name="uid"/> and <paramref name="home"/>, unless <paramref name="rootOverride"/> says where.</summary>
    public static NodeLayout For(int uid, string home, string? rootOverride = null)
    {
        var root = rootOverride ?? (uid == 0 ? SystemRoot : home.TrimEnd('/') + "/" + UserRoot);
        if (!root.StartsWith('/'))
        {
            throw new ArgumentException($"the node root must be an absolute path, got '{root}'", nameof(rootOverride));
        }

        return new NodeLayout { Root = root.Length > 1 ? root.TrimEnd('/') : root, IsRootUser = uid == 0 };
    }

    /// <summary>A model file's place: <c>models/&lt;sha256&gt;.gguf</c>.</summary>
    public string ModelPath(string sha256) => $"{Models}/{sha256.ToLowerInvariant()}.gguf";

    /// <summary>The folder name of a replica: <c>&lt;service&gt;-&lt;id&gt;</c>.</summary>
    public static string ReplicaName(string service, int replicaId) => service + "-" + replicaId.ToString(CultureInfo.InvariantCulture);

    /// <summary>The replica's folder: env file, run script, log, pid files.</summary>
    public string ReplicaDirectory(string service, int replicaId) => Replicas + "/" + ReplicaName(service, replicaId);

    /// <summary>The replica's log file (output of every run, appended).</summary>
    public string LogPath(string service, int replicaId) => ReplicaDirectory(service, replicaId) + "/log";

    /// <summary>The systemd unit of a replica: <c>wrinklefree-&lt;service&gt;-&lt;id&gt;.service</c>.</summary>
    public static string UnitName(string service, int replicaId) => "wrinklefree-" + ReplicaName(service, replicaId) + ".service";

    /// <summary>The unit file's path.</summary>
    public static string UnitPath(string service, int replicaId) => UnitDirectory + "/" + UnitName(service, replicaId);
}
