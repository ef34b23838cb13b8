using WrinkleFree.Platform.Processes;

namespace WrinkleFree.Platform.Tests.Processes;

public sealed class SessionProcessTests : IDisposable
{
    private readonly string _dir = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "wf-platform-tests", Guid.NewGuid().ToString("N"))).FullName;

    [Fact]
    public async Task Start_Command_LeadsItsOwnGroupAndAppendsOutputWithEnvironmentAndWorkingDirectory()
    {
        var log = Path.Combine(_dir, "logs", "run.log");
        File.WriteAllText(Path.Combine(_dir, "before"), string.Empty);
        Directory.CreateDirectory(Path.GetDirectoryName(log)!);
        File.WriteAllText(log, "earlier\n");

        // The command reads its own process group id: setsid made it the leader, so it is its own pid.
        using var process = SessionProcess.Start(["/bin/sh", "-c", "echo \"$GREETING $(pwd) $(($(ps -o pgid= $$) == $$))\"; echo oops >&2; exit 3"], log, _dir, [new("GREETING", "hi")]);
        await process.WaitForExitAsync(Timeout());

        Assert.Equal(3, process.ExitCode);
        Assert.Equal($"earlier\nhi {_dir} 1\noops\n", File.ReadAllText(log));
    }

    [Fact]
    public async Task Start_ReturnsOnceTheCommandLeadsItsGroup_SoAnImmediateGroupSignalReachesIt()
    {
        using var process = SessionProcess.Start(["sleep", "30"], Path.Combine(_dir, "sleep.log"));
        try
        {
            // Start returns only once the child has run setsid, so a group signal sent right away reaches it.
            Assert.Equal(process.Id, LinuxProcess.ReadStat(process.Id)!.Value.Pgrp);
            Assert.Equal(ProcessIdentity.Same, LinuxProcess.Identify(process.Id, LinuxProcess.StartTime(process.Id), LinuxProcess.BootId));
            Assert.Equal(ProcessIdentity.Reused, LinuxProcess.Identify(process.Id, LinuxProcess.StartTime(process.Id) + 1, LinuxProcess.BootId));
        }
        finally
        {
            LinuxProcess.SignalGroup(process.Id, LinuxProcess.Sigkill);
            await process.WaitForExitAsync(Timeout());
        }

        Assert.Equal(ProcessIdentity.Gone, LinuxProcess.Identify(process.Id, 1, null));
    }

    [Fact]
    public void Start_EmptyCommand_IsRefused() =>
        Assert.Throws<ArgumentException>(() => SessionProcess.Start([], Path.Combine(_dir, "x.log")));

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static CancellationToken Timeout() => new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token;
}
