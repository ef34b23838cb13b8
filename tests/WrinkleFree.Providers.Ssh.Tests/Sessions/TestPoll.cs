namespace WrinkleFree.Providers.Ssh.Tests.Sessions;

/// <summary>Polls a condition until it holds or a deadline passes (no fixed sleeps standing in for a condition).</summary>
internal static class TestPoll
{
    public static async Task UntilAsync(Func<bool> condition, TimeSpan deadline, string what)
    {
        using var timeout = new CancellationTokenSource(deadline);
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(50));
        while (!condition())
        {
            if (!await timer.WaitForNextTickAsync(CancellationToken.None) || timeout.IsCancellationRequested)
            {
                Assert.Fail($"not within {deadline}: {what}");
            }
        }
    }
}
