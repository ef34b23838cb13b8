using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using WrinkleFree.Service.Daemon;
using WrinkleFree.Service.Security;

namespace WrinkleFree.Cli;

/// <summary>
/// <c>wf keys create|list|revoke</c>: API keys for service endpoints, through the daemon's admin API. A key is printed
/// once, at creation; the daemon keeps only its SHA-256. Create and revoke return once every endpoint enforces the change.
/// </summary>
internal sealed class KeysCommands(CliContext context)
{
    private static readonly JsonSerializerOptions Json = CliJson.SnakeCase;

    public void Register(RootCommand root)
    {
        var keys = new Command("keys", "Create, list and revoke API keys for service endpoints (Authorization: Bearer KEY).");
        keys.Subcommands.Add(Create());
        keys.Subcommands.Add(List());
        keys.Subcommands.Add(Revoke());
        root.Subcommands.Add(keys);
    }

    private Command Create()
    {
        var service = new Option<string?>("--service") { Description = "The one service the key opens (default: every service)." };
        var name = new Option<string?>("--name") { Description = "A note saying whose key it is." };
        var rpm = Limit("--rpm", "Requests per minute (default: no limit).");
        var tpm = Limit("--tpm", "Tokens per minute, prompt + completion as the replicas report them (default: no limit).");
        var concurrency = Limit("--concurrency", "Requests in flight at once (default: no limit).");
        var expires = new Option<string?>("--expires") { Description = "When the key stops working: a duration from now (30d, 12h, 90m) or a UTC time (2027-01-01T00:00Z)." };
        var json = new Option<bool>("--json") { Description = "Print the key and its record as JSON." };
        var cmd = new Command("create", "Create an API key; it is printed once and cannot be shown again.") { service, name, rpm, tpm, concurrency, expires, json };
        cmd.SetAction((parse, ct) => DaemonCalls.GuardAsync(context, async () =>
        {
            DateTimeOffset? expiresAt = null;
            if (parse.GetValue(expires) is { } text)
            {
                if (ParseExpiry(text, context.Time.GetUtcNow()) is not { } at)
                    return DaemonCalls.Fail(context, $"--expires '{text}' is neither a duration (30d, 12h, 90m) nor a UTC time (2027-01-01T00:00Z)");
                expiresAt = at;
            }
            using var client = await DaemonClient.ConnectAsync(context.Home, ct);
            if (client is null)
                return DaemonCalls.NoDaemon(context);
            var created = await client.CreateKeyAsync(new NewApiKey
            {
                Service = parse.GetValue(service),
                Name = parse.GetValue(name),
                Rpm = parse.GetValue(rpm),
                Tpm = parse.GetValue(tpm),
                Concurrency = parse.GetValue(concurrency),
                ExpiresAt = expiresAt,
            }, ct);
            if (parse.GetValue(json))
            {
                context.Out.WriteLine(JsonSerializer.Serialize(new { key = created.Key, id = created.Record.Id, record = created.Record }, Json));
                return ExitCodes.Success;
            }
            context.Out.WriteLine(created.Key);
            context.Error.WriteLine($"API key {created.Record.Id} for {created.Record.Service ?? "every service"} ({Limits(created.Record)}). "
                + "This is the only time the key is shown: store it now. Clients send 'Authorization: Bearer KEY'.");
            return ExitCodes.Success;
        }));
        return cmd;
    }

    private Command List()
    {
        var service = new Option<string?>("--service") { Description = "Only the keys that apply to this service." };
        var json = new Option<bool>("--json") { Description = "Print the keys as JSON (never the keys themselves)." };
        var cmd = new Command("list", "List API keys: id, name, service, limits, expiry, revocation. Secrets are never shown.") { service, json };
        cmd.SetAction((parse, ct) => DaemonCalls.GuardAsync(context, async () =>
        {
            using var client = await DaemonClient.ConnectAsync(context.Home, ct);
            if (client is null)
                return DaemonCalls.NoDaemon(context);
            var keys = await client.ListKeysAsync(parse.GetValue(service), ct);
            if (parse.GetValue(json))
            {
                context.Out.WriteLine(JsonSerializer.Serialize(keys, Json));
                return ExitCodes.Success;
            }
            if (keys.Count == 0)
            {
                context.Out.WriteLine("No API keys: every service endpoint is open. `wf keys create --service NAME` makes one.");
                return ExitCodes.Success;
            }
            var now = context.Time.GetUtcNow();
            var table = new CliTable("ID", "NAME", "SERVICE", "LIMITS", "EXPIRES", "REVOKED", "CREATED");
            foreach (var k in keys)
            {
                table.AddRow(k.Id, k.Name ?? "-", k.Service ?? "*", Limits(k),
                    k.ExpiresAt is { } e ? Time(e) + (e <= now ? " (expired)" : "") : "never",
                    k.RevokedAt is { } r ? Time(r) : "-", Time(k.CreatedAt));
            }
            table.Write(context);
            return ExitCodes.Success;
        }));
        return cmd;
    }

    private Command Revoke()
    {
        var id = new Argument<string>("ID") { Description = "The key's id (`wf keys list`)." };
        var cmd = new Command("revoke", "Revoke an API key: every endpoint refuses it (403) before this command returns.") { id };
        cmd.SetAction((parse, ct) => DaemonCalls.GuardAsync(context, async () =>
        {
            using var client = await DaemonClient.ConnectAsync(context.Home, ct);
            if (client is null)
                return DaemonCalls.NoDaemon(context);
            var record = await client.RevokeKeyAsync(parse.GetValue(id)!, ct);
            context.Out.WriteLine($"API key {record.Id} revoked at {Time(record.RevokedAt!.Value)}");
            return ExitCodes.Success;
        }));
        return cmd;
    }

    private static Option<int?> Limit(string name, string description)
    {
        var option = new Option<int?>(name) { Description = description };
        option.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int?>() is < 1 or > NewApiKey.MaxLimit)
                r.AddError($"{name} must be 1..{NewApiKey.MaxLimit}; leave it out for no limit");
        });
        return option;
    }

    /// <summary>A duration from now (<c>30d</c>, <c>12h</c>, <c>90m</c>) or an ISO 8601 time (UTC unless it says otherwise).</summary>
    internal static DateTimeOffset? ParseExpiry(string text, DateTimeOffset now) =>
        TimeText.ParseDuration(text) is { } span ? now + span : TimeText.ParseTime(text);

    private static string Limits(ApiKeyRecord k)
    {
        var parts = new List<string>();
        if (k.Rpm is { } rpm)
            parts.Add($"{rpm} req/min");
        if (k.Tpm is { } tpm)
            parts.Add($"{tpm} tok/min");
        if (k.Concurrency is { } c)
            parts.Add($"{c} concurrent");
        return parts.Count == 0 ? "no limits" : string.Join(", ", parts);
    }

    private static string Time(DateTimeOffset t) => TimeText.Format(t);
}
