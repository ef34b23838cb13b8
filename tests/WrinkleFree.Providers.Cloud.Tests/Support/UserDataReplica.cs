using System.Text;
using System.Text.RegularExpressions;
using WrinkleFree.Testing;
using WrinkleFree.Testing.Cloud;
using WrinkleFree.Testing.Kubernetes;

namespace WrinkleFree.Providers.Cloud.Tests.Support;

/// <summary>
/// Boots an EC2 double's instance the way its user-data would, as a local process: reads the environment file and the
/// wf-replica unit's ExecStart from the script, runs that command with the built serving wf in place of
/// /usr/local/bin/wf, and binds it to the instance's private address (127.0.0.N) instead of 0.0.0.0.
/// </summary>
internal static partial class UserDataReplica
{
    private const string FilesFolder = "/etc/wrinklefree/files/";

    /// <summary>Boots <paramref name="start"/> without its interruption notice watch (no metadata service) and without its files.</summary>
    public static IAsyncDisposable Start(Ec2InstanceStart start)
    {
        var (env, argv) = Read(start);
        // The interruption notice is read from the instance metadata service, which no loopback process has.
        argv.RemoveRange(argv.IndexOf("--interruption-notice"), 2);
        return Run(start, env, argv);
    }

    /// <summary>
    /// Boots <paramref name="start"/> as the instance would run it: the files the user-data writes under
    /// /etc/wrinklefree/files land in <paramref name="filesFolder"/> (the variables naming them point there), and the
    /// replica watches <paramref name="metadata"/> as its instance metadata service, so a test can issue it a notice.
    /// </summary>
    public static IAsyncDisposable Start(Ec2InstanceStart start, string filesFolder, Uri metadata)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        var (env, argv) = Read(start);
        var files = WriteFiles(start.UserData, filesFolder);
        foreach (var (key, value) in env.ToList())
        {
            if (value.StartsWith(FilesFolder, StringComparison.Ordinal))
            {
                Assert.True(files.TryGetValue(value, out var local), $"{key} names {value}, which the user-data does not write");
                env[key] = local;
            }
        }

        env["WF_INSTANCE_METADATA_URL"] = metadata.ToString();
        return Run(start, env, argv);
    }

    private static (Dictionary<string, string> Env, List<string> Argv) Read(Ec2InstanceStart start)
    {
        var lines = start.UserData.Split('\n');
        var envBegin = Array.FindIndex(lines, l => l.EndsWith($"<<'{ReplicaUserData.EnvBegin}'", StringComparison.Ordinal));
        var envEnd = Array.FindIndex(lines, envBegin + 1, l => l == ReplicaUserData.EnvBegin);
        Assert.True(envBegin >= 0 && envEnd > envBegin, "the user-data writes no replica environment file");
        var env = lines[(envBegin + 1)..envEnd].Select(l => l.Split('=', 2)).ToDictionary(p => p[0], p => Unquote(p[1]), StringComparer.Ordinal);
        var execStart = lines.Single(l => l.StartsWith("ExecStart=", StringComparison.Ordinal))["ExecStart=".Length..];
        var argv = Words(execStart);
        Assert.Equal(ReplicaUserData.WfPath, argv[0]);
        var notice = argv.IndexOf("--interruption-notice");
        Assert.True(notice > 0 && notice + 1 < argv.Count, "the replica is started without --interruption-notice");
        return (env, argv);
    }

    private static ProcessPodContainer Run(Ec2InstanceStart start, Dictionary<string, string> env, List<string> argv)
    {
        var info = WfBuild.Serving.StartInfo(argv.Skip(1));
        foreach (var (key, value) in env)
            info.Environment[key] = value;
        info.Environment["HOST"] = start.PrivateIp;
        return ProcessPodContainer.Start(info, int.Parse(env["PORT"], System.Globalization.CultureInfo.InvariantCulture));
    }

    // The user-data's file lines, "(umask 077; echo 'BASE64' | base64 -d > /etc/wrinklefree/files/NAME)", run here:
    // each file is written into the folder; the answer maps the instance's path to the local one.
    private static Dictionary<string, string> WriteFiles(string userData, string folder)
    {
        var written = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (Match line in FileLine().Matches(userData))
        {
            var path = line.Groups["path"].Value;
            var local = Path.Combine(folder, Path.GetFileName(path));
            File.WriteAllBytes(local, Convert.FromBase64String(line.Groups["content"].Value));
            File.SetUnixFileMode(local, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            written[path] = local;
        }

        return written;
    }

    [GeneratedRegex(@"^\(umask 077; echo '(?<content>[A-Za-z0-9+/=]*)' \| base64 -d > (?<path>/etc/wrinklefree/files/[a-z0-9-]+)\)$", RegexOptions.Multiline)]
    private static partial Regex FileLine();

    private static string Unquote(string value) => value.StartsWith('"') ? Words(value)[0] : value;

    // systemd's word splitting for what ReplicaUserData writes: double quotes with \\, \" and \n escapes; $$ and %% as one.
    private static List<string> Words(string line)
    {
        var words = new List<string>();
        var word = new StringBuilder();
        var quoted = false;
        var any = false;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (c == '"')
            {
                quoted = !quoted;
                any = true;
            }
            else if (quoted && c == '\\' && i + 1 < line.Length)
            {
                var next = line[++i];
                word.Append(next == 'n' ? '\n' : next);
            }
            else if (!quoted && c == ' ')
            {
                if (any || word.Length > 0)
                    words.Add(word.ToString());
                word.Clear();
                any = false;
            }
            else
            {
                word.Append(c);
            }
        }

        if (any || word.Length > 0)
            words.Add(word.ToString());
        return [.. words.Select(w => w.Replace("$$", "$", StringComparison.Ordinal).Replace("%%", "%", StringComparison.Ordinal))];
    }
}
