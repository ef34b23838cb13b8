using System.Diagnostics;
using System.Text.RegularExpressions;

namespace WrinkleFree.Testing;

/// <summary>
/// A test server run as a child process that binds port 0 and prints the port it got (s3rver, Azurite): started, read until
/// a line matches, then drained so a full pipe never blocks it; killed with its children on dispose.
/// </summary>
public sealed class ListeningProcess : IDisposable
{
    private readonly Process _process;

    private ListeningProcess(Process process) => _process = process;

    /// <summary>Starts <paramref name="launcher"/> and waits (60 s at most) for the first stdout line <paramref name="listening"/> matches.</summary>
    public static async Task<(ListeningProcess Process, Match Listening)> StartAsync(string launcher, IEnumerable<string> arguments, Regex listening, string? workingDirectory = null)
    {
        var info = new ProcessStartInfo(launcher) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (workingDirectory is not null)
        {
            info.WorkingDirectory = workingDirectory;
        }

        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException($"cannot start {launcher}");
        var started = new ListeningProcess(process);
        try
        {
            var stderr = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            while (true)
            {
                var line = await process.StandardOutput.ReadLineAsync(timeout.Token);
                if (line is null)
                {
                    await process.WaitForExitAsync(timeout.Token);
                    throw new InvalidOperationException($"{Path.GetFileName(launcher)} exited (code {process.ExitCode}) before it listened: {(await stderr).Trim()}");
                }

                if (listening.Match(line) is { Success: true } match)
                {
                    _ = Task.Run(async () =>
                    {
                        while (await process.StandardOutput.ReadLineAsync() is not null)
                        {
                        }
                    });
                    return (started, match);
                }
            }
        }
        catch
        {
            started.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }

        _process.Dispose();
    }
}
