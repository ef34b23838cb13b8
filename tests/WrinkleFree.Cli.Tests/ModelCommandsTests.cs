using System.Text.Json;

namespace WrinkleFree.Cli.Tests;

public sealed class ModelCommandsTests
{
    [Fact]
    public async Task SynthInspectGenerate_TinyModel_EndToEnd()
    {
        var path = WfProcess.TempFile();
        try
        {
            var synth = await WfProcess.RunAsync("model", "synth", "--shape", "tiny", "--type", "i2_s", "--seed", "3", "--out", path);
            Assert.True(synth.ExitCode == 0, synth.Stderr);

            var inspect = await WfProcess.RunAsync("model", "inspect", path, "--json");
            Assert.True(inspect.ExitCode == 0, inspect.Stderr);
            using var info = JsonDocument.Parse(inspect.Stdout);
            Assert.Equal("bitnet", info.RootElement.GetProperty("architecture").GetString());
            Assert.True(info.RootElement.GetProperty("parameters").GetInt64() > 1_000_000);
            Assert.Contains(info.RootElement.GetProperty("tensors").EnumerateArray(), t => t.GetProperty("type").GetString() == "I2_S");

            var gen = await WfProcess.RunAsync("generate", "-m", path, "-p", "Once upon a time", "-n", "8", "--ignore-eos", "--json", "--threads", "1");
            Assert.True(gen.ExitCode == 0, gen.Stderr);
            using var result = JsonDocument.Parse(gen.Stdout);
            Assert.Equal(8, result.RootElement.GetProperty("token_ids").GetArrayLength());
            Assert.True(result.RootElement.GetProperty("prompt_token_ids").GetArrayLength() >= 3);
            Assert.True(result.RootElement.GetProperty("tokens_per_second").GetDouble() > 0);
            Assert.False(string.IsNullOrEmpty(result.RootElement.GetProperty("text").GetString()));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task Inspect_TruncatedFile_ExitsWithOffsetInMessage()
    {
        var path = WfProcess.TempFile();
        try
        {
            Assert.Equal(0, (await WfProcess.RunAsync("model", "synth", "--shape", "tiny", "--out", path)).ExitCode);
            var bytes = await File.ReadAllBytesAsync(path);
            await File.WriteAllBytesAsync(path, bytes[..(bytes.Length / 2)]);
            var inspect = await WfProcess.RunAsync("model", "inspect", path);
            Assert.Equal(2, inspect.ExitCode);
            Assert.Contains("offset", inspect.Stderr, StringComparison.Ordinal);
            Assert.Contains("truncated", inspect.Stderr, StringComparison.Ordinal);

            var gen = await WfProcess.RunAsync("generate", "-m", path, "-p", "hi");
            Assert.Equal(2, gen.ExitCode);
            Assert.Contains("cannot load model", gen.Stderr, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task BenchEngine_TinyJson_RowsAndTheInterleavedRoofline()
    {
        var cache = Path.Combine(Path.GetTempPath(), "wf-bench-" + Guid.NewGuid().ToString("N"));
        try
        {
            var run = await WfProcess.RunAsync(
                "bench", "engine", "--shape", "tiny", "--threads", "1", "--prompt", "4", "--decode", "8", "--concurrency", "1", "2",
                "--cache", cache, "--json");
            Assert.True(run.ExitCode == 0, run.Stderr);
            using var json = JsonDocument.Parse(run.Stdout[run.Stdout.IndexOf('{')..]);
            var rows = json.RootElement.GetProperty("rows").EnumerateArray().ToList();
            // TQ2_0 and I2_S at one thread count, then the aggregate rows for 1 and 2 sequences.
            Assert.Equal(4, rows.Count);
            Assert.All(rows, r => Assert.True(r.GetProperty("DecodeTokensPerSecond").GetDouble() > 0));
            Assert.True(rows[0].GetProperty("RooflineFraction").GetDouble() > 0);
            var interleaved = Assert.Single(json.RootElement.GetProperty("interleaved").EnumerateArray());
            Assert.Equal(1, interleaved.GetProperty("Threads").GetInt32());
            Assert.Equal(8, interleaved.GetProperty("Steps").GetInt32());
            Assert.True(interleaved.GetProperty("Fraction").GetDouble() > 0);
        }
        finally
        {
            if (Directory.Exists(cache))
            {
                Directory.Delete(cache, recursive: true);
            }
        }
    }

    [Fact]
    public async Task Help_ListsCommands()
    {
        var help = await WfProcess.RunAsync("--help");
        Assert.Equal(0, help.ExitCode);
        foreach (var command in (string[])["model", "generate", "bench"])
        {
            Assert.Contains(command, help.Stdout, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Generate_MlockOverRlimit_ExplainsRlimitMemlock()
    {
        // As root mlock ignores RLIMIT_MEMLOCK, so drop CAP_IPC_LOCK and set a 64 KiB limit with util-linux's setpriv/prlimit.
        if (!File.Exists("/usr/bin/setpriv") || !File.Exists("/usr/bin/prlimit"))
        {
            return;
        }

        var path = WfProcess.TempFile();
        try
        {
            Assert.Equal(0, (await WfProcess.RunAsync("model", "synth", "--shape", "tiny", "--out", path)).ExitCode);
            var result = await WfProcess.RunCommandAsync("/usr/bin/setpriv",
                ["--inh-caps=-ipc_lock", "--ambient-caps=-ipc_lock", "--bounding-set=-ipc_lock", "/usr/bin/prlimit", "--memlock=65536:65536",
                 "dotnet", WfProcess.WfDll, "generate", "-m", path, "-p", "hi", "-n", "2", "--mlock"]);
            Assert.Equal(2, result.ExitCode);
            Assert.Contains("RLIMIT_MEMLOCK", result.Stderr, StringComparison.Ordinal);
            Assert.Contains("65536", result.Stderr, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
