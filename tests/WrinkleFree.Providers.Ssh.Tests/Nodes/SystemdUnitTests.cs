using WrinkleFree.Providers.Ssh.Nodes;
using WrinkleFree.Providers.Ssh.Pools;
using WrinkleFree.Providers.Ssh.Tests.Support;

namespace WrinkleFree.Providers.Ssh.Tests.Nodes;

/// <summary>The unit text (this machine has no running systemd, so the unit is checked as text) and the env files.</summary>
public sealed class SystemdUnitTests
{
    private static readonly NodeLayout Layout = NodeLayout.For(0, "/root");

    private static readonly NodeReplicaSpec Spec = new()
    {
        Service = "chat",
        ReplicaId = 2,
        Version = 5,
        Run = "exec wf replica --model /opt/wrinklefree/models/x.gguf",
        Port = 8080,
        Cpus = 8,
        MemoryGiB = 16,
        Mlock = true,
        DrainTimeout = TimeSpan.FromSeconds(45),
        RestartDelay = TimeSpan.FromSeconds(2),
        Envs = new Dictionary<string, string> { ["WF_THREADS"] = "8" },
    };

    [Fact]
    public void Render_FullSpec_RestartsOnFailureWithLimitsMlockDrainAndLogFile()
    {
        var unit = SystemdUnit.Render(Spec, Layout).Split('\n');

        Assert.Equal("wrinklefree-chat-2.service", NodeLayout.UnitName("chat", 2));
        Assert.Contains("[Service]", unit);
        Assert.Contains("Restart=on-failure", unit);
        Assert.Contains("RestartSec=2", unit);
        Assert.Contains("KillSignal=SIGTERM", unit);
        Assert.Contains("TimeoutStopSec=45", unit);
        Assert.Contains("CPUQuota=800%", unit);
        Assert.Contains("MemoryMax=17179869184", unit);
        Assert.Contains("LimitMEMLOCK=infinity", unit);
        Assert.Contains("EnvironmentFile=/opt/wrinklefree/replicas/chat-2/env", unit);
        Assert.Contains("ExecStart=/bin/sh \"/opt/wrinklefree/replicas/chat-2/run\"", unit);
        Assert.Contains("WorkingDirectory=/opt/wrinklefree/replicas/chat-2", unit);
        Assert.Contains("StandardOutput=append:/opt/wrinklefree/replicas/chat-2/log", unit);
        Assert.Contains("StandardError=append:/opt/wrinklefree/replicas/chat-2/log", unit);
        Assert.DoesNotContain("[Install]", unit);
    }

    [Fact]
    public void Render_NoLimitsAsked_HasNoLimitLines()
    {
        var unit = SystemdUnit.Render(Spec with { Cpus = null, MemoryGiB = null, Mlock = false }, Layout);

        Assert.DoesNotContain("CPUQuota", unit, StringComparison.Ordinal);
        Assert.DoesNotContain("MemoryMax", unit, StringComparison.Ordinal);
        Assert.DoesNotContain("LimitMEMLOCK", unit, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_PercentInPath_IsNotASpecifier()
    {
        var unit = SystemdUnit.Render(Spec with { WorkingDirectory = "/srv/100%" }, Layout);

        Assert.Contains("WorkingDirectory=/srv/100%%\n", unit, StringComparison.Ordinal);
    }

    [Fact]
    public void Environment_OursWin_AndSystemdFormIsEscaped()
    {
        var spec = Spec with { Envs = new Dictionary<string, string> { ["PORT"] = "1", ["TRICKY"] = "a \"b\" $c `d` \\e" } };

        var text = ReplicaFiles.SystemdEnvironment(spec).Split('\n');

        Assert.Contains("PORT=\"8080\"", text);
        Assert.Contains("HOST=\"0.0.0.0\"", text);
        Assert.Contains("WF_SERVICE=\"chat\"", text);
        Assert.Contains("WF_REPLICA_ID=\"2\"", text);
        Assert.Contains("TRICKY=\"a \\\"b\\\" \\$c \\`d\\` \\\\e\"", text);
    }

    [Fact]
    public async Task ShellEnvironment_SourcedBySh_GivesTheValuesBack()
    {
        var spec = Spec with { Envs = new Dictionary<string, string> { ["TRICKY"] = "it's \"$HOME\"\nline 2 `x` \\" } };
        await using var session = new LocalShellSession(new SshNode { Pool = "p", Host = "h", User = "u" });

        var result = await session.RunAsync(ReplicaFiles.ShellEnvironment(spec) + "printf '%s|%s' \"$TRICKY\" \"$PORT\"", TimeSpan.FromSeconds(30), TestTimeout.Token());

        Assert.Equal("it's \"$HOME\"\nline 2 `x` \\|8080", result.Stdout);
    }

    [Theory]
    [InlineData("bad name")]
    [InlineData(".hidden")]
    [InlineData("")]
    public void Validate_BadServiceName_NamesTheField(string service)
    {
        var e = Assert.Throws<ArgumentException>(() => (Spec with { Service = service }).Validate());

        Assert.Equal("Service", e.ParamName);
    }

    [Fact]
    public void Validate_BadEnvName_IsRefused()
    {
        var e = Assert.Throws<ArgumentException>(() => (Spec with { Envs = new Dictionary<string, string> { ["A-B"] = "x" } }).Validate());

        Assert.Contains("A-B", e.Message, StringComparison.Ordinal);
    }
}
