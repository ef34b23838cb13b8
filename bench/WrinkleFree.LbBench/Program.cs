using System.Globalization;
using WrinkleFree.LbBench;
using WrinkleFree.Service.LoadBalancing;

// Measures what the service's load balancer adds: the same echo replica is hit directly and through
// ServiceLoadBalancer, in alternating rounds of the same run, at a fixed offered rate and then closed-loop.
var rate = Arg("--rate", 1000);
var seconds = Arg("--seconds", 6);
var rounds = Arg("--rounds", 5);
var concurrency = Arg("--concurrency", 32);

await using var replica = await EchoReplica.StartAsync();
await using var balancer = await ServiceLoadBalancer.StartAsync(new ServiceLoadBalancerOptions());
balancer.UpdateReplicas([new ReplicaEndpoint("echo", replica.Url, true)]);
using var client = new HttpClient(new SocketsHttpHandler { UseProxy = false, PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5) });
var direct = new Uri(replica.Url, "/v1/completions");
var proxied = new Uri(balancer.BaseUrl, "/v1/completions");

Console.WriteLine($"# Load balancer overhead: {rate} req/s open loop, {rounds} x {seconds} s per target, then closed loop at {concurrency}");
Console.WriteLine($"# {Environment.ProcessorCount} logical CPUs, .NET {Environment.Version}, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, load average {LoadAverage()}");

// Warm both paths (JIT, tiered PGO, connection pools) before anything is recorded.
await LoadRun.OpenLoopAsync("warmup", client, direct, rate, TimeSpan.FromSeconds(3));
await LoadRun.OpenLoopAsync("warmup", client, proxied, rate, TimeSpan.FromSeconds(3));

var results = new List<LoadRun>();
for (var r = 0; r < rounds; r++)
{
    results.Add(await LoadRun.OpenLoopAsync("direct", client, direct, rate, TimeSpan.FromSeconds(seconds)));
    results.Add(await LoadRun.OpenLoopAsync("balancer", client, proxied, rate, TimeSpan.FromSeconds(seconds)));
}

Console.WriteLine();
Console.WriteLine("| target | req/s | p50 ms | p90 ms | p99 ms | p99.9 ms | CPU µs/req | errors |");
Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|");
foreach (var run in results)
{
    Console.WriteLine(run.Row());
}

var directAll = Merge("direct (all rounds)", results.Where(x => x.Target == "direct"));
var balancerAll = Merge("balancer (all rounds)", results.Where(x => x.Target == "balancer"));
Console.WriteLine(directAll.Row());
Console.WriteLine(balancerAll.Row());
Console.WriteLine();
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"added by the balancer (all rounds): p50 {balancerAll.Percentile(50) - directAll.Percentile(50):F3} ms, p99 {balancerAll.Percentile(99) - directAll.Percentile(99):F3} ms"));

// Each balancer round is paired with the direct round just before it, so a burst of load from other processes on
// the machine shows up as one noisy pair instead of skewing the merged percentiles; the median pair is the estimate.
var pairs = Enumerable.Range(0, rounds)
    .Select(r => (P50: results[2 * r + 1].Percentile(50) - results[2 * r].Percentile(50), P99: results[2 * r + 1].Percentile(99) - results[2 * r].Percentile(99)))
    .ToArray();
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"added per round (balancer minus the direct round before it): p50 [{string.Join(", ", pairs.Select(p => p.P50.ToString("F3", CultureInfo.InvariantCulture)))}] ms, p99 [{string.Join(", ", pairs.Select(p => p.P99.ToString("F3", CultureInfo.InvariantCulture)))}] ms"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"median added: p50 {Median(pairs.Select(p => p.P50)):F3} ms, p99 {Median(pairs.Select(p => p.P99)):F3} ms"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"balancer CPU per request: {balancerAll.CpuMicrosecondsPerRequest - directAll.CpuMicrosecondsPerRequest:F0} µs (process CPU per request through the balancer minus direct); load average {LoadAverage()}"));

var closedDirect = await LoadRun.ClosedLoopAsync("direct, closed loop", client, direct, concurrency, TimeSpan.FromSeconds(seconds));
var closedBalancer = await LoadRun.ClosedLoopAsync("balancer, closed loop", client, proxied, concurrency, TimeSpan.FromSeconds(seconds));
Console.WriteLine();
Console.WriteLine("| target | req/s | p50 ms | p90 ms | p99 ms | p99.9 ms | CPU µs/req | errors |");
Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|");
Console.WriteLine(closedDirect.Row());
Console.WriteLine(closedBalancer.Row());
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"balancer throughput / direct throughput: {closedBalancer.RequestsPerSecond / closedDirect.RequestsPerSecond:F2}"));

int Arg(string name, int fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
}

static string LoadAverage() =>
    File.Exists("/proc/loadavg") ? string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

static double Median(IEnumerable<double> values)
{
    var sorted = values.Order().ToArray();
    return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
}

static LoadRun Merge(string target, IEnumerable<LoadRun> runs)
{
    var list = runs.ToList();
    var latencies = list.SelectMany(r => r.LatenciesMs).ToArray();
    Array.Sort(latencies);
    return new LoadRun(target, list.Sum(r => r.Completed), list.Sum(r => r.Errors), list.Sum(r => r.Seconds), latencies, TimeSpan.FromTicks(list.Sum(r => r.Cpu.Ticks)));
}
