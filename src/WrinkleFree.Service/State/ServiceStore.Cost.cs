using Microsoft.Data.Sqlite;
using WrinkleFree.Service.Cost;
using static WrinkleFree.Platform.Storage.SqliteStore;

namespace WrinkleFree.Service.State;

/// <summary>
/// The cost part of the state: replica lifetimes (kept in step with replicas by triggers, kept after `wf down`) and tokens
/// per replica per 5-minute bucket from the counters the controller scrapes.
/// </summary>
public sealed partial class ServiceStore
{
    /// <summary>Tokens are counted per bucket of this many milliseconds: a --since boundary falls inside one.</summary>
    public const long TokenBucketMs = 5 * 60 * 1000;

    /// <summary>Token buckets and ended replicas older than this are dropped as new counts arrive.</summary>
    public static readonly TimeSpan CostRetention = TimeSpan.FromDays(400);

    /// <summary>
    /// Adds what each replica generated since its previous sample to the current bucket. A counter below the previous one
    /// means the replica's process restarted, so all of it is new; a replica's first sample counts everything since its start.
    /// Samples of replicas the store does not know are skipped.
    /// </summary>
    public Task RecordTokenCountersAsync(IReadOnlyList<TokenCounters> samples, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(samples);
        if (samples.Count == 0)
            return Task.CompletedTask;
        return InTransactionAsync<object?>(async (tx, now) =>
        {
            var bucket = now - (now % TokenBucketMs);
            foreach (var s in samples)
            {
                var last = await QueryAsync(tx, "SELECT generated_counter, prompt_counter FROM replica_usage WHERE service = $s AND replica_id = $r",
                    r => (Generated: r.IsDBNull(0) ? (long?)null : r.GetInt64(0), Prompt: r.IsDBNull(1) ? (long?)null : r.GetInt64(1)),
                    cancellationToken, ("$s", s.Service), ("$r", s.ReplicaId)).ConfigureAwait(false);
                if (last.Count == 0)
                    continue;
                var generated = Delta(last[0].Generated, s.Generated);
                var prompt = Delta(last[0].Prompt, s.Prompt);
                await ExecuteAsync(tx, "UPDATE replica_usage SET generated_counter = $g, prompt_counter = $p WHERE service = $s AND replica_id = $r",
                    cancellationToken, ("$g", s.Generated), ("$p", s.Prompt), ("$s", s.Service), ("$r", s.ReplicaId)).ConfigureAwait(false);
                if (generated == 0 && prompt == 0)
                    continue;
                await ExecuteAsync(tx, """
                    INSERT INTO token_usage (service, replica_id, bucket, generated, prompt) VALUES ($s, $r, $b, $g, $p)
                    ON CONFLICT (service, replica_id, bucket) DO UPDATE SET generated = generated + $g, prompt = prompt + $p
                    """, cancellationToken, ("$s", s.Service), ("$r", s.ReplicaId), ("$b", bucket), ("$g", generated), ("$p", prompt)).ConfigureAwait(false);
            }

            var horizon = now - (long)CostRetention.TotalMilliseconds;
            await ExecuteAsync(tx, "DELETE FROM token_usage WHERE bucket < $h", cancellationToken, ("$h", horizon)).ConfigureAwait(false);
            await ExecuteAsync(tx, "DELETE FROM replica_usage WHERE ended_at < $h", cancellationToken, ("$h", horizon)).ConfigureAwait(false);
            return null;
        }, cancellationToken);

        static long Delta(long? previous, long current) => previous is { } p && current >= p ? current - p : Math.Max(current, 0);
    }

    /// <summary>
    /// Replica-hours, dollars and tokens from <paramref name="since"/> to now, per service and tier, for one service or all
    /// (services removed since count too). A replica still running counts up to now.
    /// </summary>
    public Task<CostReport> CostAsync(string? service, DateTimeOffset since, CancellationToken cancellationToken) =>
        ReadAsync(async tx =>
        {
            var now = _db.Now.ToUnixTimeMilliseconds();
            var from = Math.Min(since.ToUnixTimeMilliseconds(), now);
            var hours = await QueryAsync(tx, """
                SELECT service, tier, provider, COUNT(*),
                       SUM((MIN(COALESCE(ended_at, $now), $now) - MAX(launched_at, $from)) / 3600000.0),
                       SUM((MIN(COALESCE(ended_at, $now), $now) - MAX(launched_at, $from)) / 3600000.0 * cost_per_hour)
                FROM replica_usage
                WHERE ($service IS NULL OR service = $service) AND launched_at < $now AND COALESCE(ended_at, $now) > $from
                GROUP BY service, tier, provider
                """, r => new CostLine
                {
                    Service = r.GetString(0),
                    Tier = r.GetString(1),
                    Provider = r.GetString(2),
                    Replicas = r.GetInt32(3),
                    ReplicaHours = r.GetDouble(4),
                    Dollars = r.GetDouble(5),
                }, cancellationToken, ("$service", service), ("$now", now), ("$from", from)).ConfigureAwait(false);
            var tokens = await QueryAsync(tx, """
                SELECT u.service, u.tier, u.provider, SUM(t.generated), SUM(t.prompt)
                FROM token_usage t JOIN replica_usage u ON u.service = t.service AND u.replica_id = t.replica_id
                WHERE ($service IS NULL OR t.service = $service) AND t.bucket >= $from - ($from % $bucket)
                GROUP BY u.service, u.tier, u.provider
                """, r => (Key: (r.GetString(0), r.GetString(1), r.GetString(2)), Generated: r.GetInt64(3), Prompt: r.GetInt64(4)),
                cancellationToken, ("$service", service), ("$from", from), ("$bucket", TokenBucketMs)).ConfigureAwait(false);
            var lines = hours.ToDictionary(l => (l.Service!, l.Tier!, l.Provider!));
            foreach (var t in tokens)
            {
                var line = lines.TryGetValue(t.Key, out var found) ? found : new CostLine { Service = t.Key.Item1, Tier = t.Key.Item2, Provider = t.Key.Item3 };
                lines[t.Key] = line with { GeneratedTokens = t.Generated, PromptTokens = t.Prompt };
            }

            var ordered = lines.Values.OrderBy(l => l.Service, StringComparer.Ordinal).ThenBy(l => l.Tier, StringComparer.Ordinal).ToList();
            return CostReport.From(FromUnixMs(from), FromUnixMs(now), ordered);
        }, cancellationToken);

    /// <summary>True when the store has cost history for <paramref name="service"/> (running or removed).</summary>
    public Task<bool> HasCostHistoryAsync(string service, CancellationToken cancellationToken) =>
        ReadAsync(async tx => await ScalarAsync(tx, "SELECT 1 FROM replica_usage WHERE service = $s LIMIT 1", cancellationToken, ("$s", service)).ConfigureAwait(false) is not null,
            cancellationToken);

    // A service removed with replicas still recorded as live stops costing at its removal.
    private static Task EndUsageAsync(SqliteTransaction tx, string service, long now, CancellationToken cancellationToken) =>
        ExecuteAsync(tx, "UPDATE replica_usage SET ended_at = $now WHERE service = $s AND ended_at IS NULL", cancellationToken, ("$s", service), ("$now", now));
}
