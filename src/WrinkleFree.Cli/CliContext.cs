using Spectre.Console;
using WrinkleFree.Platform.Home;
using WrinkleFree.Service.Spec;

namespace WrinkleFree.Cli;

/// <summary>
/// What every <c>wf</c> command writes to and reads the time from: the one seam between command code and the process, so
/// a test runs a command in-process with a <see cref="StringWriter"/> and a fake clock. Commands never touch
/// <see cref="System.Console"/>, <see cref="AnsiConsole"/> or <see cref="DateTime.UtcNow"/> themselves.
/// </summary>
public sealed class CliContext
{
    /// <summary>A context over <paramref name="console"/> (standard output), <paramref name="error"/>, a clock and a WF home.</summary>
    public CliContext(IAnsiConsole console, TextWriter error, TimeProvider time, string home)
    {
        ArgumentNullException.ThrowIfNull(console);
        ArgumentNullException.ThrowIfNull(error);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentException.ThrowIfNullOrEmpty(home);
        Console = console;
        Error = error;
        Time = time;
        Home = home;
    }

    /// <summary>Standard output for rich output: tables, progress bars, status spinners.</summary>
    public IAnsiConsole Console { get; }

    /// <summary>Standard output for plain lines (the same writer <see cref="Console"/> writes to).</summary>
    public TextWriter Out => Console.Profile.Out.Writer;

    /// <summary>Standard error: errors, and what is not the command's result (speed lines, warnings).</summary>
    public TextWriter Error { get; }

    /// <summary>The clock: ages in tables, timeouts, speeds.</summary>
    public TimeProvider Time { get; }

    /// <summary>WrinkleFree's state folder ($WF_HOME, else ~/.wrinklefree).</summary>
    public string Home { get; }

    /// <summary>The machine local tiers run on, as service plans fit resources to it: this one unless a test says otherwise.</summary>
    public MachineShape Machine { get; private init; } = MachineShape.Current;

    /// <summary>
    /// Whether standard output is a terminal. Only then are tables boxed and sized to its width; a pipe or file gets plain
    /// aligned columns (see <see cref="CliTable"/>).
    /// </summary>
    public bool OutputIsTerminal => Console.Profile.Out.IsTerminal;

    /// <summary>The real process: stdout, stderr, the system clock and $WF_HOME. The only place that touches the console.</summary>
    public static CliContext FromConsole() =>
        new(AnsiConsole.Console, System.Console.Error, TimeProvider.System, WfHome.Path);

    /// <summary>
    /// A context over plain writers, for running commands in-process: not a terminal, no colours or cursor movement, so
    /// what <paramref name="output"/> receives is what a pipe would.
    /// </summary>
    /// <param name="machine">The machine service plans fit resources to; null for this one.</param>
    public static CliContext ForWriters(TextWriter output, TextWriter error, TimeProvider time, string home, MachineShape? machine = null)
    {
        ArgumentNullException.ThrowIfNull(output);
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(output),
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
        });
        return new CliContext(console, error, time, home) { Machine = machine ?? MachineShape.Current };
    }
}
