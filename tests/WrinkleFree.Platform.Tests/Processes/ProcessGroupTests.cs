using WrinkleFree.Platform.Processes;

namespace WrinkleFree.Platform.Tests.Processes;

public sealed class ProcessGroupTests : IDisposable
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(20);

    private readonly string _dir = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "wf-platform-tests", Guid.NewGuid().ToString("N"))).FullName;

    [Fact]
    public async Task TerminateAsync_GroupThatHonoursSigterm_EndsWithinGraceWithItsChildren()
    {
        // The shell waits on a background child: both are in the group and both must go.
        using var process = SessionProcess.Start(["/bin/sh", "-c", "sleep 30 & wait"], Path.Combine(_dir, "a.log"));
        await WaitForMembersAsync(process.Id, 2);
        var killed = false;

        var graceful = await ProcessGroup.TerminateAsync(process.Id, TimeSpan.FromSeconds(20), TimeSpan.FromSeconds(5), Poll, TimeProvider.System, () => killed = true, Timeout());

        Assert.True(graceful);
        Assert.False(killed);
        Assert.False(LinuxProcess.GroupAlive(process.Id));
    }

    [Fact]
    public async Task TerminateAsync_GroupThatIgnoresSigterm_IsKilledAfterGrace()
    {
        using var process = SessionProcess.Start(["/bin/sh", "-c", "trap '' TERM; sleep 30 & wait; wait"], Path.Combine(_dir, "b.log"));
        await WaitForMembersAsync(process.Id, 2);
        var killed = false;

        var graceful = await ProcessGroup.TerminateAsync(process.Id, TimeSpan.FromMilliseconds(300), TimeSpan.FromSeconds(10), Poll, TimeProvider.System, () => killed = true, Timeout());

        Assert.False(graceful);
        Assert.True(killed);
        Assert.False(LinuxProcess.GroupAlive(process.Id));
    }

    [Fact]
    public async Task WaitGoneAsync_NoSuchGroup_IsImmediatelyTrue() =>
        Assert.True(await ProcessGroup.WaitGoneAsync(int.MaxValue - 1, TimeSpan.Zero, Poll, TimeProvider.System, Timeout()));

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static async Task WaitForMembersAsync(int pgid, int count)
    {
        var deadline = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(20);
        while (Members(pgid) < count)
        {
            Assert.True(DateTimeOffset.UtcNow < deadline, $"group {pgid} never reached {count} members");
            await Task.Delay(Poll);
        }
    }

    private static int Members(int pgid) => Directory.EnumerateDirectories("/proc")
        .Select(d => int.TryParse(Path.GetFileName(d), out var pid) ? LinuxProcess.ReadStat(pid) : null)
        .Count(s => s is { IsDead: false } stat && stat.Pgrp == pgid);

    private static CancellationToken Timeout() => new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token;
}
