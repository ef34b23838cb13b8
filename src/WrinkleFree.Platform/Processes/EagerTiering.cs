using System.Collections;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;

namespace WrinkleFree.Platform.Processes;

/// <summary>
/// Lets a long-running server reach optimized code on its first requests.
/// </summary>
/// <remarks>
/// <para>The runtime promotes methods from quick tier-0 code only after 100 ms pass without new tier-0 compilations
/// (<c>DOTNET_TC_CallCountingDelayMs</c>). A fresh replica keeps compiling request-path methods during its warm-up and its
/// first requests, so those requests ran on tier-0 code.</para>
/// <para>The runtime reads the delay from the environment only: <c>CLRConfig::GetConfigValue</c> in eeconfig.cpp, not a
/// runtimeconfig.json knob. A process therefore cannot set it for itself. Instead the process re-executes once with the
/// variable set to 0, replacing itself through execve: same pid, same command line, same open stdout/stderr.</para>
/// <para>Measured with <c>ReplicaBench cold</c> (700m, 2 threads, three rounds each; docs/benchmarks.md):</para>
/// <list type="bullet">
/// <item>a fresh replica's first request got 89-108 % of the later ones' prompt rate, against 68-86 % without;</item>
/// <item>"ready" came 0.5-1.3 s later, because the warm-up's methods are promoted right away.</item>
/// </list>
/// <para>execve has no managed wrapper, so it is called through libc by hand.</para>
/// </remarks>
public static partial class EagerTiering
{
    /// <summary>The runtime's variable; a value the user set (either spelling) is left alone.</summary>
    public const string Variable = "DOTNET_TC_CallCountingDelayMs";

    private const string LegacyVariable = "COMPlus_TC_CallCountingDelayMs";

    /// <summary>
    /// Whether this runtime promotes methods without the usual delay (the variable is 0, as <see cref="TryReexecute"/>
    /// sets it): then the background compiler goes quiet soon after a warm-up, and waiting for that is worth it.
    /// </summary>
    public static bool Active =>
        (Environment.GetEnvironmentVariable(Variable) ?? Environment.GetEnvironmentVariable(LegacyVariable)) is "0";

    /// <summary>
    /// Replaces this process with a fresh start of the same command line, with <see cref="Variable"/>=0 added to its
    /// environment. This happens only when the process's entry assembly is one of <paramref name="entryAssemblies"/>
    /// (never a host that runs commands in process, such as a test runner) and neither spelling of the variable is set.
    /// </summary>
    /// <returns>
    /// Only when nothing was replaced: why not. The caller goes on in this process as it was.
    /// </returns>
    public static string TryReexecute(IReadOnlyCollection<string> entryAssemblies)
    {
        ArgumentNullException.ThrowIfNull(entryAssemblies);
        if (!OperatingSystem.IsLinux())
        {
            return "not Linux";
        }

        if (Environment.GetEnvironmentVariable(Variable) is not null || Environment.GetEnvironmentVariable(LegacyVariable) is not null)
        {
            return $"{Variable} is already set";
        }

        var entry = Assembly.GetEntryAssembly()?.GetName().Name;
        if (entry is null || !entryAssemblies.Contains(entry))
        {
            return $"the entry assembly is {entry ?? "unknown"}, not the executable itself";
        }

        if (Environment.ProcessPath is not { } path)
        {
            return "the executable's path is unknown";
        }

        string[] argv;
        try
        {
            argv = ParseCommandLine(File.ReadAllBytes("/proc/self/cmdline"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"cannot read /proc/self/cmdline: {e.Message}";
        }

        if (argv.Length == 0)
        {
            return "/proc/self/cmdline is empty";
        }

        var environment = new List<string?>();
        foreach (DictionaryEntry variable in Environment.GetEnvironmentVariables())
        {
            environment.Add($"{variable.Key}={variable.Value}");
        }

        environment.Add($"{Variable}=0");
        environment.Add(null);
        // The file name is the resolved executable, not /proc/self/exe: the kernel names the process after it (comm).
        _ = execve(path, [.. argv, null], [.. environment]);
        return $"execve failed (errno {Marshal.GetLastPInvokeError()})";
    }

    /// <summary>The NUL-separated strings of /proc/PID/cmdline (or environ): each one ends with a NUL; empty ones are kept.</summary>
    public static string[] ParseCommandLine(ReadOnlySpan<byte> cmdline)
    {
        var arguments = new List<string>();
        while (!cmdline.IsEmpty)
        {
            var end = cmdline.IndexOf((byte)0);
            if (end < 0)
            {
                // A process that rewrote its arguments may leave the last one unterminated.
                arguments.Add(Encoding.UTF8.GetString(cmdline));
                break;
            }

            arguments.Add(Encoding.UTF8.GetString(cmdline[..end]));
            cmdline = cmdline[(end + 1)..];
        }

        return [.. arguments];
    }

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int execve(string path, string?[] argv, string?[] envp);
}
