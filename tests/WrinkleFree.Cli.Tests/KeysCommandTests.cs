using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using WrinkleFree.Service.Daemon;

namespace WrinkleFree.Cli.Tests;

/// <summary>`wf keys create|list|revoke` in-process against a real daemon (real Kestrel admin API, real SQLite).</summary>
public sealed class KeysCommandTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Keys_CreateListRevoke_ShowsTheKeyOnceAndNeverItsSecretAfterwards()
    {
        using var console = new InProcessConsole();
        var daemon = await ServiceDaemon.StartAsync(new DaemonOptions { Home = console.Home }, TimeProvider.System, null, CancellationToken.None).WaitAsync(Deadline);
        try
        {
            var code = await console.RunAsync("keys", "create", "--name", "alice", "--rpm", "60", "--tpm", "1000", "--concurrency", "4", "--expires", "2099-01-01T00:00Z").WaitAsync(Deadline);
            Assert.True(code == ExitCodes.Success, console.Stderr);
            var key = console.Stdout.Trim();
            Assert.StartsWith("wf-", key, StringComparison.Ordinal);
            Assert.Equal(46, key.Length);
            Assert.Contains("only time the key is shown", console.Stderr, StringComparison.Ordinal);
            var id = key.Substring(3, 8);

            var list = await RunInAsync(console.Home, "keys", "list");
            Assert.Equal(ExitCodes.Success, list.Code);
            Assert.Contains(id, list.Out, StringComparison.Ordinal);
            Assert.Contains("alice", list.Out, StringComparison.Ordinal);
            Assert.Contains("60 req/min, 1000 tok/min, 4 concurrent", list.Out, StringComparison.Ordinal);
            Assert.Contains("2099-01-01 00:00Z", list.Out, StringComparison.Ordinal);
            Assert.DoesNotContain(key[11..], list.Out, StringComparison.Ordinal);

            var json = await RunInAsync(console.Home, "keys", "list", "--json");
            Assert.Equal(ExitCodes.Success, json.Code);
            var row = JsonDocument.Parse(json.Out).RootElement[0];
            Assert.Equal(id, row.GetProperty("id").GetString());
            Assert.Equal(60, row.GetProperty("rpm").GetInt32());
            Assert.False(row.TryGetProperty("hash", out _));
            Assert.DoesNotContain(key[11..], json.Out, StringComparison.Ordinal);

            var revoke = await RunInAsync(console.Home, "keys", "revoke", id);
            Assert.Equal(ExitCodes.Success, revoke.Code);
            Assert.Contains($"API key {id} revoked", revoke.Out, StringComparison.Ordinal);

            var unknown = await RunInAsync(console.Home, "keys", "revoke", "nope");
            Assert.Equal(ExitCodes.Failure, unknown.Code);
            Assert.Contains("no API key with id 'nope'", unknown.Err, StringComparison.Ordinal);

            var noService = await RunInAsync(console.Home, "keys", "create", "--service", "ghost");
            Assert.Equal(ExitCodes.Failure, noService.Code);
            Assert.Contains("no service named 'ghost'", noService.Err, StringComparison.Ordinal);

            var badExpiry = await RunInAsync(console.Home, "keys", "create", "--expires", "soon");
            Assert.Equal(ExitCodes.Failure, badExpiry.Code);
            Assert.Contains("--expires 'soon'", badExpiry.Err, StringComparison.Ordinal);

            var past = await RunInAsync(console.Home, "keys", "create", "--expires", "2001-01-01T00:00Z");
            Assert.Equal(ExitCodes.Failure, past.Code);
            Assert.Contains("is not in the future", past.Err, StringComparison.Ordinal);

            var zero = await RunInAsync(console.Home, "keys", "create", "--rpm", "0");
            Assert.NotEqual(ExitCodes.Success, zero.Code);
            Assert.Contains("--rpm must be 1..", zero.Err + zero.Out, StringComparison.Ordinal);
        }
        finally
        {
            await daemon.DisposeAsync();
        }
    }

    [Fact]
    public async Task Keys_NoDaemon_SaysHowToStartOne()
    {
        using var console = new InProcessConsole();
        Assert.Equal(ExitCodes.Failure, await console.RunAsync("keys", "list"));
        Assert.Contains("the wf daemon is not running", console.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("30d", 30 * 24 * 60)]
    [InlineData("12h", 12 * 60)]
    [InlineData("90m", 90)]
    public void ParseExpiry_Duration_IsFromNow(string text, int minutes)
    {
        var now = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);
        Assert.Equal(now.AddMinutes(minutes), KeysCommands.ParseExpiry(text, now));
    }

    [Fact]
    public void ParseExpiry_TimeOrNonsense_UtcOrNull()
    {
        var now = DateTimeOffset.UnixEpoch;
        Assert.Equal(new DateTimeOffset(2027, 1, 1, 0, 0, 0, TimeSpan.Zero), KeysCommands.ParseExpiry("2027-01-01T00:00Z", now));
        Assert.Equal(new DateTimeOffset(2027, 1, 1, 0, 0, 0, TimeSpan.Zero), KeysCommands.ParseExpiry("2027-01-01", now));
        Assert.Null(KeysCommands.ParseExpiry("0d", now));
        Assert.Null(KeysCommands.ParseExpiry("soon", now));
    }

    // Each run on the same home with writers of its own, so each output is that run's alone.
    private static async Task<(int Code, string Out, string Err)> RunInAsync(string home, params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var context = CliContext.ForWriters(output, error, new FakeTimeProvider(new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero)), home);
        var code = await WfCommandLine.RunAsync(args, [new TrainingUnavailableModule()], context, CancellationToken.None).WaitAsync(Deadline);
        return (code, output.ToString(), error.ToString());
    }
}
