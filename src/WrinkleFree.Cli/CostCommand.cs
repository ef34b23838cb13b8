using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using WrinkleFree.Service.Cost;
using WrinkleFree.Service.Daemon;

namespace WrinkleFree.Cli;

/// <summary>
/// <c>wf cost [NAME] [--since 24h] [--json]</c>: what the replicas cost and produced, per service and tier: replica-hours,
/// dollars (replica-hours times each tier's cost_per_hour), tokens generated (the replicas' counters the controller reads)
/// and dollars per million generated tokens. Services removed since still count.
/// </summary>
internal sealed class CostCommand(CliContext context)
{
    private static readonly JsonSerializerOptions Json = CliJson.SnakeCase;

    public void Register(RootCommand root)
    {
        var name = new Argument<string?>("NAME") { Description = "One service (default: every service that ran in the window).", Arity = ArgumentArity.ZeroOrOne };
        var since = new Option<string>("--since")
        {
            Description = "Start of the window: a duration back from now (30m, 24h, 7d) or a UTC time (2026-12-01T00:00Z). Tokens are counted in 5-minute buckets.",
            DefaultValueFactory = _ => "24h",
        };
        var json = new Option<bool>("--json") { Description = "Print the report as JSON (lines per service and tier, sums per service, per tier, total)." };
        var cmd = new Command("cost", "Show replica-hours, $ spent, tokens generated and $ per 1M tokens, per service and tier.") { name, since, json };
        cmd.SetAction((parse, ct) => DaemonCalls.GuardAsync(context, async () =>
        {
            var text = parse.GetValue(since)!;
            var now = context.Time.GetUtcNow();
            DateTimeOffset from;
            if (TimeText.ParseDuration(text) is { } span)
                from = now - span;
            else if (TimeText.ParseTime(text) is { } at && at <= now)
                from = at;
            else
                return DaemonCalls.Fail(context, $"--since '{text}' is neither a duration back from now (30m, 24h, 7d) nor a UTC time in the past (2026-12-01T00:00Z)");

            using var client = await DaemonClient.ConnectAsync(context.Home, ct);
            if (client is null)
                return DaemonCalls.NoDaemon(context);
            var report = await client.CostAsync(parse.GetValue(name), from, ct);
            if (parse.GetValue(json))
            {
                context.Out.WriteLine(JsonSerializer.Serialize(report, Json));
                return ExitCodes.Success;
            }

            Write(report);
            return ExitCodes.Success;
        }));
        root.Subcommands.Add(cmd);
    }

    private void Write(CostReport report)
    {
        var window = $"{TimeText.Format(report.Since)} to {TimeText.Format(report.Until)}";
        if (report.Lines.Count == 0)
        {
            context.Out.WriteLine($"No replicas ran from {window}.");
            return;
        }

        var byService = new CliTable("SERVICE", "TIER", "PROVIDER", "REPLICAS", "REPLICA-HOURS", "$", "TOKENS", "$/1M TOKENS") { Title = $"Cost {window}" };
        foreach (var line in report.Lines)
            byService.AddRow(Row(line.Service!, line.Tier!, line.Provider!, line));
        if (report.Services.Count > 1 || report.Lines.Count > 1)
        {
            foreach (var service in report.Services)
                byService.AddRow(Row(service.Service!, "(all)", "", service));
        }

        var byTier = new CliTable("TIER", "PROVIDER", "REPLICAS", "REPLICA-HOURS", "$", "TOKENS", "$/1M TOKENS") { Title = "Per tier" };
        foreach (var tier in report.Tiers)
            byTier.AddRow(Row(null, tier.Tier!, tier.Provider ?? "(several)", tier));
        byTier.AddRow(Row(null, "TOTAL", "", report.Total));
        CliTable.WriteAll(context, byService, byTier);
    }

    private static string[] Row(string? service, string tier, string provider, CostLine line)
    {
        string[] numbers =
        [
            line.Replicas.ToString(CultureInfo.InvariantCulture),
            line.ReplicaHours.ToString("0.00", CultureInfo.InvariantCulture),
            line.Dollars.ToString("0.00", CultureInfo.InvariantCulture),
            line.GeneratedTokens.ToString("N0", CultureInfo.InvariantCulture),
            line.DollarsPerMillionTokens is { } perMillion ? perMillion.ToString("0.000", CultureInfo.InvariantCulture) : "-",
        ];
        return service is null ? [tier, provider, .. numbers] : [service, tier, provider, .. numbers];
    }
}
