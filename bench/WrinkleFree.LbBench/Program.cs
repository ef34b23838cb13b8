using System.Globalization;
using WrinkleFree.LbBench;
using WrinkleFree.Serve.LoadBalancing;

// Measures what the service's load balancer adds: the same echo replica is hit directly and through
// ServiceLoadBalancer, in alternating rounds of the same run, at a fixed offered rate and then closed-loop.
var rate = Arg("--rate", 1000);
var seconds = Arg("--seconds", 10);
var rounds = Arg("--rounds", 3);
var concurrency = Arg("--concurrency", 32);

await using var replica = await EchoReplica.StartAsync();
await using var balancer = await ServiceLoadBalancer.StartAsync(new ServiceLoadBalancerOptions());
balancer.UpdateReplicas([new ReplicaEndpoint("echo", replica.Url, true)]);
using var client = new HttpClient(new SocketsHttpHandler { UseProxy = false, PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5) });
var direct = new Uri(replica.Url, "/v1/completions");
var proxied = new Uri(balancer.BaseUrl, "/v1/completions");

Console.WriteLine($"# Load balancer overhead: {rate} req/s open loop, {rounds} x {seconds} s per target, then closed loop at {concurrency}");
Console.WriteLine($"# {Environment.ProcessorCount} logical CPUs, .NET {Environment.Version}, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}");

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
Console.WriteLine("| target | req/s | p50 ms | p90 ms | p99 ms | p99.9 ms | errors |");
Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|");
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
    $"added by the balancer: p50 {balancerAll.Percentile(50) - directAll.Percentile(50):F3} ms, p99 {balancerAll.Percentile(99) - directAll.Percentile(99):F3} ms"));

var closedDirect = await LoadRun.ClosedLoopAsync("direct, closed loop", client, direct, concurrency, TimeSpan.FromSeconds(seconds));
var closedBalancer = await LoadRun.ClosedLoopAsync("balancer, closed loop", client, proxied, concurrency, TimeSpan.FromSeconds(seconds));
Console.WriteLine();
Console.WriteLine("| target | req/s | p50 ms | p90 ms | p99 ms | p99.9 ms | errors |");
Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|");
Console.WriteLine(closedDirect.Row());
Console.WriteLine(closedBalancer.Row());
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"balancer throughput / direct throughput: {closedBalancer.RequestsPerSecond / closedDirect.RequestsPerSecond:F2}"));

int Arg(string name, int fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
}

static LoadRun Merge(string target, IEnumerable<LoadRun> runs)
{
    var list = runs.ToList();
    var latencies = list.SelectMany(r => r.LatenciesMs).ToArray();
    Array.Sort(latencies);
    return new LoadRun(target, list.Sum(r => r.Completed), list.Sum(r => r.Errors), list.Sum(r => r.Seconds), latencies);
}
