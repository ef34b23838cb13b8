using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Xunit.Abstractions;

namespace WrinkleFree.Replica.Tests;

/// <summary>
/// A burst of ten times a replica's capacity (slots + queue) at a fresh replica: admission is decided as each request
/// arrives, so the queue never passes --max-queue (it once held 196 with a limit of 8), the excess gets 429 with
/// Retry-After at once, and memory stays bounded and comes back after the burst.
/// </summary>
public sealed class AdmissionTests(ITestOutputHelper output)
{
    private const int Slots = 2;
    private const int Queue = 8;
    private const int Burst = 10 * (Slots + Queue);

    [Fact]
    public async Task Burst_TenTimesCapacityAtAFreshReplica_QueueNeverAboveLimitAndExcessGets429WithRetryAfter()
    {
        await using var host = await TestReplica.StartAsync(o => o with { MaxSequences = Slots, MaxQueue = Queue });
        using var client = TestReplica.Client(host);

        var (results, maxQueue) = await BurstAsync(client, Burst);

        Assert.All(results, r => Assert.True(r.Status is 200 or 429, $"{r.Status}: {r.Body}"));
        var refused = results.Where(r => r.Status == 429).ToList();
        Assert.NotEmpty(refused);
        Assert.All(refused, r =>
        {
            Assert.True(r.RetryAfter >= 1, $"Retry-After {r.RetryAfter}");
            Assert.Contains("\"code\":\"queue_full\"", r.Body, StringComparison.Ordinal);
        });
        Assert.True(maxQueue <= Queue, $"queue_depth reached {maxQueue}, limit {Queue}");
        output.WriteLine($"burst {Burst}: {results.Count(r => r.Status == 200)} served, {refused.Count} refused with 429, largest queue seen {maxQueue}");

        var after = await TestReplica.PollHealthAsync(client, h => h.GetProperty("queue_depth").GetInt32() == 0 && h.GetProperty("active_requests").GetInt32() == 0);
        Assert.Equal("ok", after.GetProperty("status").GetString());
    }

    [Fact]
    public async Task Burst_AtAWfReplicaProcess_RssBoundedAndReturnedAfter()
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { ReplicaProcessTests.WfDll, "replica", "--host", "127.0.0.1", "--port", "0", "--model-id", "tiny" })
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["MODEL_PATH"] = TestReplica.ModelPath;
        psi.Environment["NUM_THREADS"] = "1";
        psi.Environment["WF_PEAK_BANDWIDTH_GBPS"] = "10";
        psi.Environment["WF_MAX_SEQUENCES"] = Slots.ToString(CultureInfo.InvariantCulture);
        psi.Environment["WF_MAX_QUEUE"] = Queue.ToString(CultureInfo.InvariantCulture);
        using var process = Process.Start(psi)!;
        _ = process.StandardError.ReadToEndAsync();
        try
        {
            var address = await ReadUntilAsync(process, "listening on ");
            await ReadUntilAsync(process, "ready");
            _ = process.StandardOutput.ReadToEndAsync();
            using var client = new HttpClient { BaseAddress = new Uri(address), Timeout = TestReplica.Timeout };
            var (warm, _, _) = await TestReplica.PostAsync(client, "/v1/completions", "{\"prompt\": \"hi\", \"max_tokens\": 2}");
            Assert.Equal(200, warm);
            var before = Rss(process.Id);

            using var stop = new CancellationTokenSource();
            var peak = before;
            var sampler = Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    peak = Math.Max(peak, Rss(process.Id));
                    await Task.Delay(5);
                }
            });
            var rounds = new List<(int Served, int Refused, int MaxQueue)>();
            for (var round = 0; round < 3; round++)
            {
                var (results, maxQueue) = await BurstAsync(client, Burst);
                Assert.All(results, r => Assert.True(r.Status is 200 or 429, $"{r.Status}: {r.Body}"));
                Assert.True(maxQueue <= Queue, $"round {round}: queue_depth reached {maxQueue}, limit {Queue}");
                rounds.Add((results.Count(r => r.Status == 200), results.Count(r => r.Status == 429), maxQueue));
            }

            await stop.CancelAsync();
            await sampler;
            await TestReplica.PollHealthAsync(client, h => h.GetProperty("queue_depth").GetInt32() == 0 && h.GetProperty("active_requests").GetInt32() == 0);
            var after = Rss(process.Id);
            output.WriteLine($"RSS before {Mb(before)} MB, peak during three bursts of {Burst} {Mb(peak)} MB, after {Mb(after)} MB; "
                + string.Join("; ", rounds.Select(r => $"{r.Served} served, {r.Refused} refused, queue <= {r.MaxQueue}")));

            // Generous bounds, no timing: the burst must not multiply memory (it went 81 MB -> 1.49 GB and stayed).
            Assert.True(peak < before + (256L << 20), $"peak RSS {Mb(peak)} MB, before {Mb(before)} MB");
            Assert.True(after < before + (128L << 20), $"RSS after the bursts {Mb(after)} MB, before {Mb(before)} MB");
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
    }

    /// <summary>Sends <paramref name="count"/> completions at once while watching /health's queue_depth.</summary>
    private static async Task<(List<(int Status, int RetryAfter, string Body)> Results, int MaxQueue)> BurstAsync(HttpClient client, int count)
    {
        using var stop = new CancellationTokenSource();
        var maxQueue = 0;
        var watcher = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var (_, health) = await TestReplica.GetAsync(client, "/health");
                maxQueue = Math.Max(maxQueue, health.GetProperty("queue_depth").GetInt32());
            }
        });

        var requests = Enumerable.Range(0, count).Select(async i =>
        {
            using var content = new StringContent($"{{\"prompt\": \"burst {i}\", \"max_tokens\": 64}}", Encoding.UTF8, "application/json");
            using var response = await client.PostAsync("/v1/completions", content).WaitAsync(TestReplica.Timeout);
            var body = await response.Content.ReadAsStringAsync().WaitAsync(TestReplica.Timeout);
            var retryAfter = response.Headers.RetryAfter?.Delta is { } delta ? (int)delta.TotalSeconds : 0;
            return ((int)response.StatusCode, retryAfter, body);
        }).ToArray();
        var results = await Task.WhenAll(requests);
        await stop.CancelAsync();
        await watcher;
        return (results.ToList(), maxQueue);
    }

    private static long Rss(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
            }
        }

        throw new InvalidOperationException($"no VmRSS for pid {pid}");
    }

    private static long Mb(long bytes) => bytes >> 20;

    private static async Task<string> ReadUntilAsync(Process process, string prefix)
    {
        while (await process.StandardOutput.ReadLineAsync().WaitAsync(TestReplica.Timeout) is { } line)
        {
            if (line.StartsWith(prefix, StringComparison.Ordinal))
            {
                return line[prefix.Length..];
            }
        }

        throw new InvalidOperationException($"wf replica exited before printing '{prefix}'");
    }
}
