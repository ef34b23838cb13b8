using System.Diagnostics;
using WrinkleFree.Testing;

namespace WrinkleFree.Cli.Tests;

/// <summary>Runs the built <c>wf</c> as a real child process with a deadline and captures its output.</summary>
internal static class WfProcess
{
    public static string RepoRoot => RepositoryPaths.Root;

    public static string WfDll => WfBuild.Full.Dll;

    public static Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(params string[] args) =>
        RunCommandAsync("dotnet", [WfDll, .. args]);

    /// <summary>Runs any command (e.g. wf under setpriv/prlimit) with the same deadline and environment.</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunCommandAsync(string program, string[] args)
    {
        var psi = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["WF_HOME"] = Path.Combine(Path.GetTempPath(), "wf-cli-tests-home");
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        try
        {
            await p.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"wf {string.Join(' ', args)} did not finish within 120 s");
        }

        return (p.ExitCode, await stdout, await stderr);
    }

    public static string TempFile(string extension = ".gguf") =>
        Path.Combine(Path.GetTempPath(), "wf-cli-tests", Guid.NewGuid().ToString("N") + extension);
}
