using Microsoft.Extensions.Time.Testing;
using WrinkleFree.Service.Spec;

namespace WrinkleFree.Cli.Tests;

/// <summary>
/// Runs <c>wf</c> commands in this process against a <see cref="CliContext"/> of StringWriters, a fake clock and a fresh
/// WF home: what a pipe would receive, with nothing read from the real console, clock or $WF_HOME.
/// </summary>
internal sealed class InProcessConsole : IDisposable
{
    private readonly StringWriter _out = new();
    private readonly StringWriter _error = new();

    /// <param name="machine">The machine service plans fit resources to; null for this one.</param>
    public InProcessConsole(FakeTimeProvider? time = null, MachineShape? machine = null)
    {
        Home = Path.Combine(Path.GetTempPath(), "wf-cli-tests", "home-" + Guid.NewGuid().ToString("N"));
        Time = time ?? new FakeTimeProvider(new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero));
        Context = CliContext.ForWriters(_out, _error, Time, Home, machine);
    }

    public string Home { get; }

    public FakeTimeProvider Time { get; }

    public CliContext Context { get; }

    public string Stdout => _out.ToString();

    public string Stderr => _error.ToString();

    /// <summary>Runs <c>wf ARGS</c> as the serving build would (no <c>wf train</c>); returns the exit code.</summary>
    public Task<int> RunAsync(params string[] args) =>
        WfCommandLine.RunAsync(args, [new TrainingUnavailableModule()], Context, CancellationToken.None);

    /// <summary>Forgets what was written so far, so the next command's output stands alone.</summary>
    public void Clear()
    {
        _out.GetStringBuilder().Clear();
        _error.GetStringBuilder().Clear();
    }

    public void Dispose()
    {
        _out.Dispose();
        _error.Dispose();
        if (Directory.Exists(Home))
        {
            Directory.Delete(Home, recursive: true);
        }
    }
}
