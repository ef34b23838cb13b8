using System.Globalization;
using System.Runtime.CompilerServices;
using WrinkleFree.Platform.Files;

namespace WrinkleFree.Platform.Tests.Files;

/// <summary>
/// This test assembly as a child process that writes numbered lines to its stdout while rotating the file stdout points
/// to, as `wf replica` and the daemon do: <c>dotnet WrinkleFree.Platform.Tests.dll LINES MAX_BYTES KEEP</c> with
/// <see cref="ModeVariable"/> set. The test SDK's generated Main is empty, so the hook is a module initializer, inert
/// unless the variable is set.
/// </summary>
internal static class LogWriterChild
{
    public const string ModeVariable = "WF_PLATFORM_TESTS_LOG_WRITER";

    /// <summary>The dotnet host running the tests, which can also run this assembly.</summary>
    public static string Dotnet { get; } =
        Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet" ? Environment.ProcessPath! : "dotnet";

    /// <summary>The command line and environment that run the writer.</summary>
    public static (string[] Command, KeyValuePair<string, string>[] Environment) Command(int lines, long maxBytes, int keep) =>
        ([Dotnet, typeof(LogWriterChild).Assembly.Location, Str(lines), Str(maxBytes), Str(keep)], [new(ModeVariable, "1")]);

    /// <summary>Line <paramref name="i"/> as the writer prints it: fixed width, so every line has the same size.</summary>
    public static string Line(int i) => $"line {i:D6} the quick brown fox jumps over the lazy dog";

#pragma warning disable CA2255 // A test assembly's own entry hook, inert unless the variable is set.
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Run()
    {
        if (Environment.GetEnvironmentVariable(ModeVariable) is not { Length: > 0 })
        {
            return;
        }

        Environment.SetEnvironmentVariable(ModeVariable, null);
        var args = Environment.GetCommandLineArgs()[1..];
        // A foreground thread, not the initializer itself: the timer's callbacks must be able to run meanwhile.
        new Thread(() =>
        {
            try
            {
                Write(int.Parse(args[0], CultureInfo.InvariantCulture), long.Parse(args[1], CultureInfo.InvariantCulture), int.Parse(args[2], CultureInfo.InvariantCulture));
                Environment.Exit(0);
            }
            catch (Exception e)
            {
                Console.Error.WriteLine(e);
                Environment.Exit(3);
            }
        }) { IsBackground = false, Name = "log writer" }.Start();
    }

    private static void Write(int lines, long maxBytes, int keep)
    {
        using var rotation = LogRotation.WatchStandardOutput(maxBytes, TimeProvider.System, out var whyNot, keep, TimeSpan.FromMilliseconds(5))
            ?? throw new InvalidOperationException("no rotation: " + whyNot);
        for (var i = 0; i < lines; i++)
        {
            // Console.Out flushes each line with one write(2), as the console logger does.
            Console.Out.WriteLine(Line(i));
            if (i % 50 == 49)
            {
                // However fast this machine writes, rotations happen between the lines too, not only on the timer's
                // thread (which keeps rotating concurrently with the writes).
                rotation.RotateIfNeeded();
            }
        }
    }

    private static string Str(long value) => value.ToString(CultureInfo.InvariantCulture);
}
