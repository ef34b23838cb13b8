using System.Diagnostics;

namespace WrinkleFree.Testing;

/// <summary>
/// One of the two built <c>wf</c> executables, run as a real child process (<c>dotnet wf.dll</c>): the full build
/// (src/wf, with <c>wf train</c>) or the serving build (src/wf-serving, no TorchSharp). A test project that runs one of
/// them references that project (ReferenceOutputAssembly=false) so the build is fresh.
/// </summary>
public sealed class WfBuild
{
    private WfBuild(string project) =>
        Dll = Path.Combine(RepositoryPaths.Root, "src", project, "bin", RepositoryPaths.Configuration, "net10.0", "wf.dll");

    /// <summary>src/wf: every verb group, TorchSharp included.</summary>
    public static WfBuild Full { get; } = new("wf");

    /// <summary>src/wf-serving: what replica nodes and the service controller run.</summary>
    public static WfBuild Serving { get; } = new("wf-serving");

    /// <summary>The built wf.dll.</summary>
    public string Dll { get; }

    /// <summary>A start info for <c>dotnet wf.dll args...</c> with redirected output and, when given, its own WF_HOME.</summary>
    public ProcessStartInfo StartInfo(IEnumerable<string> args, string? home = null)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Dll);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        if (home is not null)
        {
            info.Environment["WF_HOME"] = home;
        }

        return info;
    }

    /// <summary>Runs wf to completion within <paramref name="timeout"/> (killed and a <see cref="TimeoutException"/> past it).</summary>
    public async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(IEnumerable<string> args, TimeSpan timeout, string? home = null)
    {
        var list = args.ToList();
        using var process = Process.Start(StartInfo(list, home)) ?? throw new InvalidOperationException("cannot start dotnet");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"wf {string.Join(' ', list)} did not finish within {timeout}");
        }

        return (process.ExitCode, await stdout, await stderr);
    }
}
