using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using WrinkleFree.Jobs;

namespace WrinkleFree.Cli.Tests;

/// <summary>
/// One test's private `wf jobs` world: a working folder (relative paths in task files land in it), its own WF_HOME, and
/// helpers to run the real wf, read `wf jobs queue --json` and poll with deadlines. Disposing kills every controller and
/// task group its jobs left running, so a failed assertion never leaves a trainer behind.
/// </summary>
internal sealed class JobsHarness : IAsyncDisposable
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(120);

    public JobsHarness(string tag)
    {
        Directory = Path.Combine(Path.GetTempPath(), tag, Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(Directory);
    }

    /// <summary>The folder wf runs in (the launch folder of every job).</summary>
    public string Directory { get; }

    /// <summary>This test's WF_HOME.</summary>
    public string Home => Path.Combine(Directory, "home");

    /// <summary>Extra environment variables for every wf this harness runs (and so for the controllers it starts).</summary>
    public Dictionary<string, string> Environment { get; } = new(StringComparer.Ordinal);

    /// <summary>Writes a task file into the working folder and returns its path.</summary>
    public string Write(string name, string yaml)
    {
        var path = Path.Combine(Directory, name);
        File.WriteAllText(path, yaml);
        return path;
    }

    /// <summary>Runs wf with this harness's WF_HOME and working folder, with a deadline.</summary>
    public async Task<(int ExitCode, string Stdout, string Stderr)> WfAsync(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = Directory };
        psi.ArgumentList.Add(WfProcess.WfDll);
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["WF_HOME"] = Home;
        foreach (var (key, value) in Environment)
        {
            psi.Environment[key] = value;
        }
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(CommandTimeout);
        try
        {
            await p.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"wf {string.Join(' ', args)} did not finish within {CommandTimeout.TotalSeconds} s");
        }

        return (p.ExitCode, await stdout, await stderr);
    }

    /// <summary>`wf jobs launch FILE -d --json`: the new job's id.</summary>
    public async Task<long> LaunchAsync(string taskFile)
    {
        var (code, stdout, stderr) = await WfAsync("jobs", "launch", taskFile, "-d", "--json");
        Assert.True(code == 0, $"wf jobs launch failed ({code}): {stderr}");
        using var json = JsonDocument.Parse(stdout);
        return json.RootElement.GetProperty("id").GetInt64();
    }

    /// <summary>Every job as `wf jobs queue --json` shows it.</summary>
    public async Task<List<JsonElement>> QueueAsync()
    {
        var (code, stdout, stderr) = await WfAsync("jobs", "queue", "--json");
        Assert.True(code == 0, $"wf jobs queue failed ({code}): {stderr}");
        using var json = JsonDocument.Parse(stdout);
        return json.RootElement.EnumerateArray().Select(j => j.Clone()).ToList();
    }

    public async Task<JsonElement> JobAsync(long id) => (await QueueAsync()).Single(j => j.GetProperty("id").GetInt64() == id);

    /// <summary>Polls the queue until the job satisfies <paramref name="done"/>; a job that ends some other way fails at once.</summary>
    public async Task<JsonElement> WaitForAsync(long id, Func<JsonElement, bool> done, string what, TimeSpan? within = null)
    {
        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(150));
        while (true)
        {
            var job = await JobAsync(id);
            if (done(job))
            {
                return job;
            }

            var status = job.GetProperty("status").GetString();
            Assert.False(IsTerminal(status), $"job {id} ended {status} while waiting for {what}: {job.GetProperty("failure_reason")}\n{await LogsAsync(id)}");
            Assert.True(DateTime.UtcNow < deadline, $"job {id} is {status}, not {what}, at the deadline\n{await LogsAsync(id)}");
            await Task.Delay(200);
        }
    }

    public Task<JsonElement> WaitForStatusAsync(long id, string status) =>
        WaitForAsync(id, j => j.GetProperty("status").GetString() == status, status);

    /// <summary>Waits for the job to end and returns it, whatever the final status.</summary>
    public Task<JsonElement> WaitForEndAsync(long id) =>
        WaitForAsync(id, j => IsTerminal(j.GetProperty("status").GetString()), "the end");

    /// <summary>`wf jobs logs ID`: setup and every attempt's output.</summary>
    public async Task<string> LogsAsync(long id)
    {
        var (_, stdout, stderr) = await WfAsync("jobs", "logs", id.ToString(CultureInfo.InvariantCulture));
        return stdout + stderr;
    }

    public static async Task WaitUntilAsync(Func<bool> condition, string what, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"{what}: not within {within.TotalSeconds} s");
            await Task.Delay(20);
        }
    }

    /// <summary>True while <paramref name="pid"/> runs (a zombie waiting for its parent counts as gone).</summary>
    public static bool IsAlive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..][0] != 'Z';
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>The process's command line with spaces between the arguments ("" when it is gone).</summary>
    public static string CommandLine(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ');
        }
        catch (IOException)
        {
            return "";
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            foreach (var job in await QueueAsync())
            {
                foreach (var key in new[] { "controller_pid", "task_pid" })
                {
                    // Only our own wf processes: a pid the queue still names may have been reused by now.
                    if (job.GetProperty(key) is { ValueKind: JsonValueKind.Number } pid && IsAlive(pid.GetInt32())
                        && CommandLine(pid.GetInt32()).Contains(WfProcess.WfDll, StringComparison.Ordinal))
                    {
                        using var process = Process.GetProcessById(pid.GetInt32());
                        process.Kill(entireProcessTree: true);
                    }
                }
            }
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or ArgumentException or JsonException or TimeoutException or Xunit.Sdk.XunitException)
        {
            // Best effort: cleanup must not hide the test's own failure.
        }

        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static bool IsTerminal(string? status) => status is not null && JobStatusNames.Parse(status).IsTerminal();
}
