using System.CommandLine;
using System.Globalization;
using Microsoft.Extensions.Logging;
using WrinkleFree.Platform.Files;

namespace WrinkleFree.Cli;

/// <summary>
/// How wf's long-running processes (`wf replica`, `wf daemon run`, `wf endpoint`) log: one line per entry on stdout, as text or as JSON
/// (--log-format / WF_LOG_FORMAT), without ASP.NET Core's or YARP's per-request information lines, and with size
/// rotation of the log file stdout is appended to (--log-max-bytes / WF_LOG_MAX_BYTES). The environment variables let
/// `wf up` pass the choice on: the supervisor and the daemon inherit them, and so do the endpoints and replicas the
/// daemon launches.
/// </summary>
internal sealed class ProcessLogging
{
    public const string FormatVariable = "WF_LOG_FORMAT";
    public const string MaxBytesVariable = "WF_LOG_MAX_BYTES";

    private static readonly string[] Formats = ["text", "json"];

    public ProcessLogging()
    {
        Format.AcceptOnlyFromAmong(Formats);
    }

    public Option<string?> Format { get; } = new("--log-format") { Description = $"Log lines as text (default) or json (one object per line). Env: {FormatVariable}." };

    public Option<long?> MaxBytes { get; } = new("--log-max-bytes")
    {
        Description = $"Rotate the log file stdout is appended to at this size, keeping {LogRotation.DefaultKeep} old ones (default 50 MiB; 0 = never). Env: {MaxBytesVariable}.",
    };

    /// <summary>Adds --log-format and --log-max-bytes to <paramref name="command"/>.</summary>
    public void AddTo(Command command)
    {
        command.Options.Add(Format);
        command.Options.Add(MaxBytes);
    }

    /// <summary>The settings from the command line, else the environment, else the defaults; a bad variable throws naming it.</summary>
    public Settings Resolve(ParseResult parse, Func<string, string?>? getVariable = null)
    {
        getVariable ??= Environment.GetEnvironmentVariable;
        var format = parse.GetValue(Format);
        if (format is null && getVariable(FormatVariable) is { Length: > 0 } envFormat)
        {
            format = envFormat.Trim().ToLowerInvariant();
            if (!Formats.Contains(format))
            {
                throw new ArgumentException($"environment variable {FormatVariable}='{envFormat}' is not a valid log format: must be text or json", FormatVariable);
            }
        }

        var maxBytes = parse.GetValue(MaxBytes);
        if (maxBytes is null && getVariable(MaxBytesVariable) is { Length: > 0 } envMax)
        {
            maxBytes = long.TryParse(envMax.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed) ? parsed
                : throw new ArgumentException($"environment variable {MaxBytesVariable}='{envMax}' is not a valid byte count", MaxBytesVariable);
        }

        if (maxBytes < 0)
        {
            throw new ArgumentException($"log max bytes = {maxBytes} is invalid: must be >= 0 (0 = never rotate)", MaxBytesVariable);
        }

        return new Settings { Json = format == "json", MaxBytes = maxBytes ?? LogRotation.DefaultMaxBytes };
    }

    /// <summary>
    /// <see cref="Resolve"/> for a command's action: false, with the error written to <paramref name="error"/>, when an
    /// environment variable is invalid (the command then exits <see cref="ExitCodes.InvalidInput"/>).
    /// </summary>
    public bool TryResolve(ParseResult parse, TextWriter error, out Settings settings)
    {
        ArgumentNullException.ThrowIfNull(error);
        try
        {
            settings = Resolve(parse);
            return true;
        }
        catch (ArgumentException e)
        {
            error.WriteLine($"error: {e.Message}");
            settings = new Settings();
            return false;
        }
    }

    /// <summary>
    /// Console logging at Information in the chosen format. Text lines start with <paramref name="textTimestampFormat"/>;
    /// JSON lines are the built-in JSON console formatter's objects: Timestamp (UTC, ISO 8601), EventId, LogLevel,
    /// Category, Message and State (the message's named fields), one per line.
    /// </summary>
    public static void Configure(ILoggingBuilder builder, Settings settings, string textTimestampFormat)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.Json)
        {
            builder.AddJsonConsole(o =>
            {
                o.TimestampFormat = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";
                o.UseUtcTimestamp = true;
            });
        }
        else
        {
            builder.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = textTimestampFormat;
            });
        }

        // Kestrel's and YARP's information lines are per request (YARP's forwarder logs two for each proxied one); their
        // warnings and errors stay. The replica writes its own access line per request (WrinkleFree.Replica.Access).
        builder.SetMinimumLevel(LogLevel.Information)
            .AddFilter("Microsoft.AspNetCore", LogLevel.Warning)
            .AddFilter("Yarp", LogLevel.Warning);
    }

    /// <summary>
    /// Starts rotating the file stdout is appended to, when it is one and rotation is on; says on <paramref name="error"/>
    /// why not when stdout is a file it cannot rotate, and reports failed rotations there too.
    /// </summary>
    public static LogRotation? StartRotation(Settings settings, TimeProvider time, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(error);
        if (settings.MaxBytes == 0 || LogRotation.StandardOutputFile() is null)
        {
            // Not asked for, or stdout is a terminal or a pipe (journald, a test): whoever reads it keeps it.
            return null;
        }

        var rotation = LogRotation.WatchStandardOutput(settings.MaxBytes, time, out var whyNot, onError: e => error.WriteLine($"warning: log rotation failed: {e.Message}"));
        if (rotation is null)
        {
            error.WriteLine($"warning: not rotating the log: {whyNot}");
        }

        return rotation;
    }

    /// <summary>What <see cref="Resolve"/> found.</summary>
    public sealed record Settings
    {
        /// <summary>JSON lines rather than text.</summary>
        public bool Json { get; init; }

        /// <summary>Rotate at this size; 0 = never.</summary>
        public long MaxBytes { get; init; } = LogRotation.DefaultMaxBytes;
    }
}
