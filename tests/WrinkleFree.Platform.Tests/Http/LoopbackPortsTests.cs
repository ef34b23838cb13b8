using System.Net;
using System.Net.Sockets;
using WrinkleFree.Platform.Http;

namespace WrinkleFree.Platform.Tests.Http;

public sealed class LoopbackPortsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("wf-ports-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void PickUnused_BelowTheKernelsEphemeralRange_AndBindable()
    {
        var ephemeralFirst = int.Parse(File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split('\t', ' ')[0]);
        var range = Assert.NotNull(LoopbackPorts.Range);
        Assert.Equal(LoopbackPorts.First, range.First);
        Assert.True(range.Last < ephemeralFirst, $"range ends at {range.Last}, the ephemeral range starts at {ephemeralFirst}");
        Assert.True(range.Last < 30000, $"range ends at {range.Last}, inside Kubernetes' NodePort range");

        var picked = new HashSet<int>();
        for (var i = 0; i < 20; i++)
        {
            var port = LoopbackPorts.PickUnused();
            Assert.InRange(port, range.First, range.Last);
            picked.Add(port);
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
        }

        Assert.True(picked.Count > 1, "successive picks should move on through the range");
    }

    [Fact]
    public void PickUnused_SkipsAPortInUse_AndOnesTheCallerRefuses()
    {
        var taken = LoopbackPorts.PickUnused();
        using var holder = new TcpListener(IPAddress.Loopback, taken);
        holder.Start();
        var refused = new List<int>();
        for (var i = 0; i < 200; i++)
        {
            var port = LoopbackPorts.PickUnused(p =>
            {
                if (refused.Count < 3)
                {
                    refused.Add(p);
                    return false;
                }

                return true;
            });
            Assert.NotEqual(taken, port);
            Assert.DoesNotContain(port, refused);
            refused.Clear();
        }
    }

    [Fact]
    public void PickUnused_EveryPortRefused_SaysWhatToDo()
    {
        var error = Assert.Throws<InvalidOperationException>(() => LoopbackPorts.PickUnused(_ => false));
        Assert.Contains("no free loopback port", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("32768\t60999\n", 29999)] // Linux's default; below Kubernetes' NodePorts too
    [InlineData("40000 60999", 29999)]
    [InlineData("25000\t60999\n", 24999)]
    public void ReadRange_EndsBelowTheEphemeralPorts(string content, int last)
    {
        var path = Path.Combine(_dir, "range");
        File.WriteAllText(path, content);
        Assert.Equal((LoopbackPorts.First, last), LoopbackPorts.ReadRange(path));
    }

    [Theory]
    [InlineData("20500\t60999\n")] // fewer than 1000 ports would remain below it
    [InlineData("1024 65535")]
    [InlineData("garbage")]
    [InlineData("")]
    public void ReadRange_TooLowOrUnreadable_LetsTheKernelPick(string content)
    {
        var path = Path.Combine(_dir, "range");
        File.WriteAllText(path, content);
        Assert.Null(LoopbackPorts.ReadRange(path));
    }

    [Fact]
    public void ReadRange_NoSuchFile_LetsTheKernelPick() => Assert.Null(LoopbackPorts.ReadRange(Path.Combine(_dir, "absent")));
}
