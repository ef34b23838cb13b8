using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using WrinkleFree.Inference.Gguf;
using WrinkleFree.Inference.Models;

namespace WrinkleFree.Cli.Tests;

/// <summary>
/// Commands run in-process with an injected console, clock and WF home (<see cref="CliContext"/>): what they print lands
/// in the StringWriters, the home they use is the injected one, and the speeds they report come from the fake clock.
/// </summary>
public sealed class InProcessCommandTests
{
    [Fact]
    public async Task Status_NoDaemon_ReportsTheInjectedHomeOnTheInjectedErrorWriter()
    {
        using var console = new InProcessConsole();

        var code = await console.RunAsync("status");

        Assert.Equal(ExitCodes.Failure, code);
        Assert.Equal("", console.Stdout);
        Assert.Contains("the wf daemon is not running", console.Stderr, StringComparison.Ordinal);
        Assert.Contains(Path.Combine(console.Home, "daemon.json"), console.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ModelInspect_SyntheticModel_PlainTablesWithTheWholePath()
    {
        using var console = new InProcessConsole();
        var dir = Path.Combine(console.Home, new string('d', 150));
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, "synthetic-tiny.gguf");
        SyntheticModel.Write(path, SyntheticShape.Tiny, GgmlType.TQ2_0, seed: 1);

        var code = await console.RunAsync("model", "inspect", path);

        Assert.True(code == ExitCodes.Success, console.Stderr);
        var lines = console.Stdout.Split('\n');
        // Not a terminal: plain columns, no box drawing, and the long path whole on its row.
        Assert.DoesNotContain(lines, l => l.IndexOfAny(['│', '─', '╭', '┌', '┃']) >= 0);
        Assert.Contains(lines, l => l.StartsWith("file", StringComparison.Ordinal) && l.EndsWith(path, StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("architecture", StringComparison.Ordinal) && l.EndsWith("bitnet", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("token_embd.weight", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ModelInspect_TruncatedFile_InvalidInputOnTheErrorWriter()
    {
        using var console = new InProcessConsole();
        Directory.CreateDirectory(console.Home);
        var path = Path.Combine(console.Home, "half.gguf");
        SyntheticModel.Write(path, SyntheticShape.Tiny, GgmlType.TQ2_0, seed: 1);
        var bytes = await File.ReadAllBytesAsync(path);
        await File.WriteAllBytesAsync(path, bytes[..(bytes.Length / 2)]);

        Assert.Equal(ExitCodes.InvalidInput, await console.RunAsync("model", "inspect", path));
        Assert.Contains("truncated", console.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Generate_FakeClock_SpeedsComeFromTheInjectedClock()
    {
        // Every reading of the clock moves it one second on: start, first token, end are 1 s apart, so the decode speed is
        // (tokens - 1) / 1 s whatever this machine's real speed.
        using var console = new InProcessConsole(new FakeTimeProvider { AutoAdvanceAmount = TimeSpan.FromSeconds(1) });
        Directory.CreateDirectory(console.Home);
        var path = Path.Combine(console.Home, "tiny.gguf");
        SyntheticModel.Write(path, SyntheticShape.Tiny, GgmlType.TQ2_0, seed: 1);

        var code = await console.RunAsync("generate", "-m", path, "-p", "Once upon a time", "-n", "8", "--ignore-eos", "--threads", "1", "--json");

        Assert.True(code == ExitCodes.Success, console.Stderr);
        using var result = JsonDocument.Parse(console.Stdout);
        Assert.Equal(8, result.RootElement.GetProperty("token_ids").GetArrayLength());
        Assert.Equal(7, result.RootElement.GetProperty("tokens_per_second").GetDouble());
        Assert.Equal(result.RootElement.GetProperty("prompt_token_ids").GetArrayLength(), result.RootElement.GetProperty("prompt_tokens_per_second").GetDouble());
    }

    [Fact]
    public async Task Help_GoesToTheInjectedWriter()
    {
        using var console = new InProcessConsole();

        Assert.Equal(ExitCodes.Success, await console.RunAsync("--help"));
        Assert.Contains("generate", console.Stdout, StringComparison.Ordinal);
        Assert.Contains("jobs", console.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Train_InTheServingBuild_SaysWhereTheFullBuildIs()
    {
        using var console = new InProcessConsole();

        Assert.Equal(TrainingUnavailableModule.ExitCode, await console.RunAsync("train", "stage2", "--steps", "5"));
        Assert.Contains(TrainingUnavailableModule.Message, console.Stderr, StringComparison.Ordinal);
    }
}
