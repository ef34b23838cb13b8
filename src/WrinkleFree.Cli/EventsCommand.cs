using System.CommandLine;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using WrinkleFree.Platform.Home;
using WrinkleFree.Service.Daemon;

namespace WrinkleFree.Cli;

/// <summary>
/// <c>wf events NAME</c>: a service's event log (scale decisions with their reason, launches, failures, backoff) from the
/// daemon's admin API; <c>--follow</c> polls for new ones, <c>--json</c> prints one JSON object per line.
/// </summary>
internal sealed class EventsCommand(CliContext context)
{
    /// <summary>How often <c>--follow</c> asks the daemon for events after the last one seen.</summary>
    internal static readonly TimeSpan FollowInterval = TimeSpan.FromSeconds(1);

    private static readonly JsonSerializerOptions JsonLines = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
        // Printed to a terminal or a file, never into HTML: keep "×" and ">" in reasons readable.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public void Register(RootCommand root)
    {
        var name = new Argument<string>("NAME") { Description = "Service." };
        var follow = new Option<bool>("--follow", "-f") { Description = "Keep printing new events until Ctrl-C." };
        var limit = new Option<int>("--limit", "-n")
        {
            Description = $"Show the last N events (1..{ServiceEventsEndpoint.MaxLimit}).",
            DefaultValueFactory = _ => 50,
        };
        limit.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() is < 1 or > ServiceEventsEndpoint.MaxLimit)
                r.AddError($"--limit must be 1..{ServiceEventsEndpoint.MaxLimit}");
        });
        var json = new Option<bool>("--json") { Description = "Print one JSON object per event and line (id, service, at, kind, message, replica_id, details)." };
        var cmd = new Command("events", "Show a service's events: scale decisions and their reason, launches, readiness, failures, backoff.")
        {
            name, follow, limit, json,
        };
        cmd.SetAction((parse, ct) => RunAsync(parse.GetValue(name)!, parse.GetValue(follow), parse.GetValue(limit), parse.GetValue(json), ct));
        root.Subcommands.Add(cmd);
    }

    private Task<int> RunAsync(string service, bool follow, int limit, bool json, CancellationToken ct) => DaemonCalls.GuardAsync(context, async () =>
    {
        using var client = await DaemonClient.ConnectAsync(context.Home, ct);
        if (client is null)
            return DaemonCalls.NoDaemon(context);
        var events = await client.EventsAsync(service, null, limit, ct);
        if (json)
            WriteJson(events);
        else if (follow)
            WriteFollowLines(events, header: true);
        else if (events.Count == 0)
            context.Out.WriteLine($"No events for {service}.");
        else
            WriteTable(events);
        if (!follow)
            return ExitCodes.Success;
        var last = events.Count > 0 ? events[^1].Id : 0;
        try
        {
            while (true)
            {
                await Task.Delay(FollowInterval, context.Time, ct);
                var next = await client.EventsAsync(service, last, ServiceEventsEndpoint.MaxLimit, ct);
                if (next.Count == 0)
                    continue;
                if (json)
                    WriteJson(next);
                else
                    WriteFollowLines(next, header: false);
                last = next[^1].Id;
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Ctrl-C ends a follow.
            return ExitCodes.Success;
        }
    });

    private void WriteTable(IReadOnlyList<ServiceEventView> events)
    {
        var table = new CliTable("TIME (UTC)", "KIND", "REPLICA", "MESSAGE");
        foreach (var e in events)
            table.AddRow(Time(e), e.Kind, Replica(e), e.Message);
        table.Write(context);
    }

    /// <summary>Fixed columns, so lines printed as they arrive stay aligned with the header printed first.</summary>
    private void WriteFollowLines(IReadOnlyList<ServiceEventView> events, bool header)
    {
        if (header)
            context.Out.WriteLine(Line("TIME (UTC)", "KIND", "REPLICA", "MESSAGE"));
        foreach (var e in events)
            context.Out.WriteLine(Line(Time(e), e.Kind, Replica(e), e.Message));
        context.Out.Flush();
    }

    private void WriteJson(IReadOnlyList<ServiceEventView> events)
    {
        foreach (var e in events)
            context.Out.WriteLine(JsonSerializer.Serialize(e, JsonLines));
        context.Out.Flush();
    }

    private static string Line(string time, string kind, string replica, string message) => $"{time,-19}  {kind,-18}  {replica,-7}  {message}".TrimEnd();

    private static string Time(ServiceEventView e) => e.At.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    private static string Replica(ServiceEventView e) => e.ReplicaId?.ToString(CultureInfo.InvariantCulture) ?? "-";
}
