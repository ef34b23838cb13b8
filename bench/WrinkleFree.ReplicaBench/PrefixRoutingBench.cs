using WrinkleFree.Inference.Benchmarking;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using WrinkleFree.Inference.Gguf;
using WrinkleFree.Inference.Models;
using WrinkleFree.Replica;
using WrinkleFree.Service.LoadBalancing;

namespace WrinkleFree.ReplicaBench;

/// <summary>
/// Cache-aware routing on the service: real replicas (in-process ReplicaHost, each its own engine and prefix cache) on
/// loopback behind ServiceLoadBalancer, a multi-tenant chat workload (each tenant one long system prompt, many
/// questions), least_requests and prefix_affinity alternating in the same run. Each (round, policy) uses tenants of its
/// own, so no run finds another's prefixes cached. Reports client TTFT and the replicas' prefill work from /metrics.
/// </summary>
internal static class PrefixRoutingBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var shape = BenchArgs.Arg(args, "--shape", "tiny");
        var replicaCount = BenchArgs.Int(args, "--replicas", 3);
        var tenants = BenchArgs.Int(args, "--tenants", 12);
        var perTenant = BenchArgs.Int(args, "--requests", 6);
        var concurrency = BenchArgs.Int(args, "--concurrency", 4);
        var rounds = BenchArgs.Int(args, "--rounds", 2);
        var systemTokens = BenchArgs.Int(args, "--system-tokens", 250);
        var maxSequences = BenchArgs.Int(args, "--max-sequences", 4);
        var threads = BenchArgs.Int(args, "--threads", 1);

        var path = EngineBenchmark.EnsureSyntheticModel(Path.GetTempPath(), SyntheticShape.Find(shape), GgmlType.TQ2_0);

        using var model = Model.Load(path);
        var filler = Filler(model, systemTokens);
        var replicas = new List<ReplicaHost>();
        for (var i = 0; i < replicaCount; i++)
        {
            var host = await ReplicaHost.StartAsync(new ReplicaOptions
            {
                ModelPath = path, ModelId = "bench", Host = "127.0.0.1", Port = 0, Threads = threads, MaxSequences = maxSequences,
                MaxQueue = 1024, PeakBandwidthGBps = 10,
            });
            await host.WaitUntilReadyAsync(CancellationToken.None);
            replicas.Add(host);
        }

        await using var balancer = await ServiceLoadBalancer.StartAsync(new ServiceLoadBalancerOptions());
        balancer.UpdateReplicas([.. replicas.Select((r, i) => new ReplicaEndpoint($"r{i}", r.Address, true))]);
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false, MaxConnectionsPerServer = 256 }) { BaseAddress = balancer.BaseUrl, Timeout = TimeSpan.FromMinutes(5) };
        using var scrape = new HttpClient { Timeout = TimeSpan.FromMinutes(1) };

        // Warm-up: JIT on every path.
        await RunPolicy(http, "warmup", tenants: 2, perTenant: 2, concurrency, filler);

        string[] policies = [LoadBalancingPolicyNames.LeastRequests, LoadBalancingPolicyNames.PrefixAffinity];
        var results = policies.ToDictionary(p => p, _ => new Stats());
        for (var round = 0; round < rounds; round++)
        {
            foreach (var policy in policies)
            {
                balancer.SetPolicy(policy);
                var before = await Work(scrape, replicas);
                var clock = Stopwatch.StartNew();
                var ttft = await RunPolicy(http, $"round {round} {policy}", tenants, perTenant, concurrency, filler);
                var wall = clock.Elapsed.TotalSeconds;
                var after = await Work(scrape, replicas);
                var s = results[policy];
                s.Ttft.AddRange(ttft);
                s.Prefilled += after.Prefilled - before.Prefilled;
                s.Prompt += after.Prompt - before.Prompt;
                s.Seconds += wall;
            }
        }

        Console.WriteLine($"# Cache-aware routing: {replicaCount} replicas ({shape}, {threads} thread(s), {maxSequences} sequences each) behind the balancer on loopback");
        Console.WriteLine($"# {rounds} rounds x {tenants} tenants x {perTenant} requests, {concurrency} concurrent clients, system prompts ~{systemTokens} tokens, 8 tokens out; {Environment.ProcessorCount} logical CPUs");
        Console.WriteLine();
        Console.WriteLine("| policy | requests | TTFT p50 ms | TTFT p99 ms | prompt tokens | prefilled by replicas | from cache | wall s |");
        Console.WriteLine("|---|--:|--:|--:|--:|--:|--:|--:|");
        foreach (var policy in policies)
        {
            var s = results[policy];
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {policy} | {s.Ttft.Count} | {s.Percentile(50):F1} | {s.Percentile(99):F1} | {s.Prompt:F0} | {s.Prefilled:F0} | {100 * (1 - s.Prefilled / s.Prompt):F0}% | {s.Seconds:F1} |"));
        }

        var lr = results[LoadBalancingPolicyNames.LeastRequests];
        var pa = results[LoadBalancingPolicyNames.PrefixAffinity];
        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"prefix_affinity vs least_requests: TTFT p50 {lr.Percentile(50) / pa.Percentile(50):F2}x lower, p99 {lr.Percentile(99) / pa.Percentile(99):F2}x lower, prefill work {pa.Prefilled / lr.Prefilled:P0} of least_requests'"));
        foreach (var r in replicas)
        {
            await r.DisposeAsync();
        }

        return 0;
    }

    /// <summary>Every tenant's requests, shuffled (seeded) and shared out to the clients; returns each request's TTFT.</summary>
    private static async Task<List<double>> RunPolicy(HttpClient http, string tag, int tenants, int perTenant, int concurrency, string filler)
    {
        var requests = new List<(int Tenant, int Question)>();
        for (var t = 0; t < tenants; t++)
        {
            for (var q = 0; q < perTenant; q++)
            {
                requests.Add((t, q));
            }
        }

        var random = new Random(42);
        random.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(requests));
        var queue = new System.Collections.Concurrent.ConcurrentQueue<(int Tenant, int Question)>(requests);
        var ttft = new System.Collections.Concurrent.ConcurrentBag<double>();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
        {
            while (queue.TryDequeue(out var item))
            {
                ttft.Add(await ChatAsync(http, $"[{tag}] You are the assistant of tenant {item.Tenant}. {filler}", $"Question {item.Question} from a user of tenant {item.Tenant}?"));
            }
        })));
        return [.. ttft];
    }

    private static async Task<double> ChatAsync(HttpClient http, string system, string user)
    {
        var body = JsonSerializer.Serialize(new
        {
            model = "bench",
            messages = new[] { new { role = "system", content = system }, new { role = "user", content = user } },
            max_tokens = 8,
            temperature = 0,
            stream = true,
        });
        var start = Stopwatch.GetTimestamp();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new StringContent(body, Encoding.UTF8) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        response.EnsureSuccessStatusCode();
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        double? first = null;
        while (await reader.ReadLineAsync() is { } line)
        {
            // The first chunk carrying generated text, not the role-only opening chunk.
            if (first is null && line.StartsWith("data: {", StringComparison.Ordinal) && line.Contains("\"content\":\"", StringComparison.Ordinal))
            {
                first = Stopwatch.GetElapsedTime(start).TotalSeconds;
            }
        }

        return first ?? Stopwatch.GetElapsedTime(start).TotalSeconds;
    }

    /// <summary>Summed over the replicas: prompt tokens admitted and prompt tokens prefilled (from their /metrics).</summary>
    private static async Task<(double Prompt, double Prefilled)> Work(HttpClient scrape, List<ReplicaHost> replicas)
    {
        double prompt = 0, prefilled = 0;
        foreach (var r in replicas)
        {
            var text = await scrape.GetStringAsync(new Uri(r.Address, "/metrics"));
            prompt += Sample(text, "wf_prefix_cache_prompt_tokens_total");
            prefilled += Sample(text, "wf_prefill_tokens_total");
        }

        return (prompt, prefilled);
    }

    private static double Sample(string text, string name)
    {
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith(name + " ", StringComparison.Ordinal))
            {
                return double.Parse(line.AsSpan(name.Length + 1), CultureInfo.InvariantCulture);
            }
        }

        throw new InvalidOperationException($"{name} is missing from /metrics");
    }

    /// <summary>Text of about <paramref name="tokens"/> tokens in the model's tokenizer.</summary>
    private static string Filler(Model model, int tokens)
    {
        string[] words = ["policy", "details", "always", "answer", "politely", "in", "short", "sentences", "and", "cite", "the", "manual"];
        var text = new StringBuilder();
        for (var i = 0; model.Tokenizer.Encode(text.ToString()).Length < tokens; i++)
        {
            text.Append(words[i % words.Length]).Append(' ');
        }

        return text.ToString();
    }

    private sealed class Stats
    {
        public List<double> Ttft { get; } = [];

        public double Prompt { get; set; }

        public double Prefilled { get; set; }

        public double Seconds { get; set; }

        public double Percentile(double p) => BenchArgs.PercentileMs(Ttft, p);
    }
}
