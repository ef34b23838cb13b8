namespace WrinkleFree.Providers.Ssh.Tests.Support;

/// <summary>Every await in these tests is bounded: a token that cancels after a minute.</summary>
internal static class TestTimeout
{
    public static CancellationToken Token(int seconds = 60) => new CancellationTokenSource(TimeSpan.FromSeconds(seconds)).Token;
}
