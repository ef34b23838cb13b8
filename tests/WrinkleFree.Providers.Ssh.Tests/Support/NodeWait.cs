using System.Globalization;
using WrinkleFree.Providers.Ssh.Sessions;

namespace WrinkleFree.Providers.Ssh.Tests.Support;

/// <summary>Waits for a condition by polling it on the node (a shell loop with a deadline), never by sleeping in the test.</summary>
internal static class NodeWait
{
    /// <summary>Runs <paramref name="condition"/> (sh) on the node until it succeeds; fails the test after <paramref name="seconds"/>.</summary>
    public static async Task UntilAsync(ISshSession session, string condition, int seconds = 30)
    {
        var ticks = (seconds * 10).ToString(CultureInfo.InvariantCulture);
        var result = await session.RunAsync(
            $"i=0; while [ $i -lt {ticks} ]; do if {condition}; then exit 0; fi; sleep 0.1; i=$((i+1)); done; exit 1",
            TimeSpan.FromSeconds(seconds + 30), TestTimeout.Token(seconds + 60));
        Assert.True(result.Succeeded, $"not true within {seconds}s on the node: {condition}");
    }

    /// <summary>Whether <paramref name="pid"/> is a live (not zombie) process on this machine.</summary>
    public static bool Alive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..][0] != 'Z';
        }
        catch (IOException)
        {
            return false;
        }
    }
}
