namespace WrinkleFree.Providers.Kubernetes.Tests.Support;

/// <summary>Every wait in these tests is bounded: a condition polled until it holds or a deadline passes.</summary>
internal static class Poll
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    public static CancellationToken Token(int seconds = 60) => new CancellationTokenSource(TimeSpan.FromSeconds(seconds)).Token;

    public static async Task UntilAsync(Func<bool> condition, string what, TimeSpan? deadline = null)
    {
        var until = DateTime.UtcNow + (deadline ?? Deadline);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < until, "timed out waiting for " + what);
            await Task.Delay(50);
        }
    }

    public static async Task<T> UntilAsync<T>(Func<Task<T>> read, Func<T, bool> condition, string what)
    {
        var until = DateTime.UtcNow + Deadline;
        while (true)
        {
            var value = await read();
            if (condition(value))
                return value;
            Assert.True(DateTime.UtcNow < until, $"timed out waiting for {what}; last: {value}");
            await Task.Delay(50);
        }
    }
}
