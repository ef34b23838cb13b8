using System.Diagnostics;
using WrinkleFree.Service.Tests.State;

namespace WrinkleFree.Service.Tests.Integration;

/// <summary>
/// Runs the real `wf` (dotnet wf.dll) as a child process with its own WF_HOME, and <paramref name="environment"/> set
/// (a daemon that `wf up` starts inherits it, and so do the replicas the daemon launches).
/// </summary>
internal sealed class WfCli(string home, IReadOnlyDictionary<string, string>? environment = null)
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    public static string Dll { get; } = Path.Combine(AppContext.BaseDirectory, "wf.dll");

    public async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(params string[] args)
    {
        var info = new ProcessStartInfo(ChildProcessEntry.Dotnet)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        info.ArgumentList.Add(Dll);
        foreach (var arg in args)
            info.ArgumentList.Add(arg);
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
            info.Environment[key] = value;
        info.Environment["WF_HOME"] = home;
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(Deadline);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        return (process.ExitCode, await stdout.WaitAsync(Deadline), await stderr.WaitAsync(Deadline));
    }
}
