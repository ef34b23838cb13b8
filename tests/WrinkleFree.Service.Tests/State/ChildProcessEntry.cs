using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace WrinkleFree.Service.Tests.State;

/// <summary>
/// Lets tests run code of this assembly in a child process they can SIGKILL: <c>dotnet WrinkleFree.Service.Tests.dll</c>
/// with <see cref="ModeVariable"/> set runs the named helper and exits. The test SDK's generated Main is empty and the
/// project file is shared, so the hook is a module initializer, which does nothing unless the variable is set.
/// </summary>
internal static class ChildProcessEntry
{
    public const string ModeVariable = "WF_SERVE_TESTS_CHILD";

    private static readonly Dictionary<string, Func<string[], Task>> Modes = new(StringComparer.Ordinal)
    {
        ["store-writer"] = StoreCrashTests.RunWriterAsync,
        ["local-controller"] = Providers.LocalProviderRestartTests.RunControllerAsync,
    };

    /// <summary>The dotnet host running the tests, which can also run this assembly.</summary>
    public static string Dotnet { get; } =
        Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet" ? Environment.ProcessPath! : "dotnet";

    /// <summary>Starts this assembly as a child in <paramref name="mode"/> with its stdout redirected.</summary>
    public static Process Start(string mode, params string[] args)
    {
        var info = new ProcessStartInfo(Dotnet)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        info.ArgumentList.Add(typeof(ChildProcessEntry).Assembly.Location);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment[ModeVariable] = mode;
        return Process.Start(info)!;
    }

#pragma warning disable CA2255 // A test assembly's own entry hook, inert unless the variable is set.
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Run()
    {
        if (Environment.GetEnvironmentVariable(ModeVariable) is not { Length: > 0 } mode)
        {
            return;
        }

        // Children launched by the helper must not recurse into it.
        Environment.SetEnvironmentVariable(ModeVariable, null);
        var args = Environment.GetCommandLineArgs()[1..];

        // Not here: while a module initializer runs, every other thread touching this assembly blocks on it, so async
        // continuations would deadlock. A foreground thread keeps the process alive after the (empty) Main returns.
        new Thread(() =>
        {
            try
            {
                Modes[mode](args).GetAwaiter().GetResult();
                Environment.Exit(0);
            }
            catch (Exception e)
            {
                Console.Error.WriteLine(e);
                Environment.Exit(3);
            }
        }) { IsBackground = false, Name = "test child: " + mode }.Start();
    }
}
