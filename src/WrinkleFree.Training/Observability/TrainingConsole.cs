using System.Globalization;
using Spectre.Console;

namespace WrinkleFree.Training.Observability;

/// <summary>
/// What a run shows on the terminal: a Spectre.Console progress bar on an interactive terminal, otherwise one plain line
/// per logging step (or, with --json, the metrics JSON line itself) so logs and job runners read it line by line.
/// </summary>
public sealed class TrainingConsole : IAsyncDisposable
{
    private readonly TextWriter _out;
    private readonly bool _json;
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task? _render;
    private ProgressTask? _bar;

    private TrainingConsole(TextWriter output, bool json, bool interactive, string stage, long totalSteps)
    {
        _out = output;
        _json = json;
        if (interactive)
        {
            var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _render = AnsiConsole.Progress()
                .AutoClear(false)
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                .StartAsync(async ctx =>
                {
                    _bar = ctx.AddTask(Markup.Escape(stage), maxValue: Math.Max(1, totalSteps));
                    ready.SetResult();
                    await _done.Task.ConfigureAwait(false);
                });
            ready.Task.Wait();
        }
    }

    /// <summary>
    /// A console for <paramref name="stage"/>: interactive when stdout is a terminal and <paramref name="json"/> is false.
    /// </summary>
    public static TrainingConsole Create(string stage, long totalSteps, bool json) =>
        new(Console.Out, json, !json && !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive, stage, totalSteps);

    /// <summary>A non-interactive console writing to <paramref name="output"/> (tests, job logs).</summary>
    public static TrainingConsole ForWriter(TextWriter output, bool json) => new(output, json, interactive: false, "", 0);

    /// <summary>Shows one logging step; <paramref name="jsonLine"/> is the metrics line used in --json mode.</summary>
    public void Report(TrainingMetricsRecord record, string jsonLine)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (_bar is not null)
        {
            _bar.Value = record.Step;
            _bar.Description = Markup.Escape(string.Create(CultureInfo.InvariantCulture,
                $"{record.Stage} loss {record.Losses.GetValueOrDefault("loss"):F4} {record.TokensPerSecond:F0} tok/s"));
            return;
        }

        _out.WriteLine(_json ? jsonLine : Describe(record));
        _out.Flush();
    }

    /// <summary>Shows a free-form line (start, resume, evaluation, done); in --json mode it goes to stderr.</summary>
    public void Message(string line)
    {
        if (_bar is not null)
        {
            AnsiConsole.MarkupLine(Markup.Escape(line));
            return;
        }

        var target = _json ? Console.Error : _out;
        target.WriteLine(line);
        target.Flush();
    }

    /// <summary>Ends the progress bar.</summary>
    public async ValueTask DisposeAsync()
    {
        _done.TrySetResult();
        if (_render is not null)
        {
            await _render.ConfigureAwait(false);
        }
    }

    /// <summary>The plain one-line form of a record.</summary>
    public static string Describe(TrainingMetricsRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        var losses = string.Join(' ', record.Losses.Select(kv => string.Create(CultureInfo.InvariantCulture, $"{kv.Key} {kv.Value:F4}")));
        var line = string.Create(CultureInfo.InvariantCulture,
            $"{record.Stage} step {record.Step}/{record.TotalSteps} {losses} lr {record.LearningRate:G3} lambda {record.Lambda:G3} grad_norm {record.GradNorm:F3} {record.TokensPerSecond:F0} tok/s epoch {record.EpochProgress:F3}");
        if (record.HeldOutPerplexity is { } ppl)
        {
            line += string.Create(CultureInfo.InvariantCulture, $" heldout_ppl {ppl:F2}");
        }

        if (record.CheckpointBytes is { } bytes)
        {
            line += string.Create(CultureInfo.InvariantCulture, $" checkpoint {bytes / 1e6:F1} MB in {record.CheckpointSeconds:F2} s");
        }

        return line;
    }
}
