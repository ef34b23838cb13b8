using System.Diagnostics;
using System.Text;
using WrinkleFree.Testing;
using WrinkleFree.Testing.Cloud;
using WrinkleFree.Testing.Kubernetes;

namespace WrinkleFree.Providers.Cloud.Tests.Support;

/// <summary>
/// Boots an EC2 double's instance the way its user-data would, as a local process: reads the environment file and the
/// wf-replica unit's ExecStart from the script, runs that command with the built serving wf in place of
/// /usr/local/bin/wf, and binds it to the instance's private address (127.0.0.N) instead of 0.0.0.0.
/// </summary>
internal static class UserDataReplica
{
    public static IAsyncDisposable Start(Ec2InstanceStart start)
    {
        var lines = start.UserData.Split('\n');
        var envBegin = Array.FindIndex(lines, l => l.EndsWith($"<<'{ReplicaUserData.EnvBegin}'", StringComparison.Ordinal));
        var envEnd = Array.FindIndex(lines, envBegin + 1, l => l == ReplicaUserData.EnvBegin);
        Assert.True(envBegin >= 0 && envEnd > envBegin, "the user-data writes no replica environment file");
        var env = lines[(envBegin + 1)..envEnd].Select(l => l.Split('=', 2)).ToDictionary(p => p[0], p => Unquote(p[1]), StringComparer.Ordinal);
        var execStart = lines.Single(l => l.StartsWith("ExecStart=", StringComparison.Ordinal))["ExecStart=".Length..];
        var argv = Words(execStart);
        Assert.Equal(ReplicaUserData.WfPath, argv[0]);
        // The interruption notice is read from the instance metadata service, which no loopback process has.
        var notice = argv.IndexOf("--interruption-notice");
        Assert.True(notice > 0, "the replica is started without --interruption-notice");
        argv.RemoveRange(notice, 2);

        var info = WfBuild.Serving.StartInfo(argv.Skip(1));
        foreach (var (key, value) in env)
            info.Environment[key] = value;
        info.Environment["HOST"] = start.PrivateIp;
        return ProcessPodContainer.Start(info, int.Parse(env["PORT"], System.Globalization.CultureInfo.InvariantCulture));
    }

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
