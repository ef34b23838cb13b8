using WrinkleFree.Inference.Benchmarking;
using System.Globalization;
using WrinkleFree.Inference.Batching;
using WrinkleFree.Inference.Gguf;
using WrinkleFree.Inference.Models;
using WrinkleFree.Replica;
using WrinkleFree.ReplicaBench;

// Replica server overhead: throughput and TTFT at several concurrency levels over HTTP (in-process replica on loopback)
// against the same workload calling InferenceEngine directly, in the same run.
// Usage: dotnet run -c Release --project bench/WrinkleFree.ReplicaBench -- [--shape tiny|700m] [--threads N]
//        [--requests R] [--max-tokens M] [--concurrency 1,4,16,64] [--rounds N]
//        prefix [--shape tiny] [--conversations N] [--turns N] [--system-tokens N] [--rounds N]   (engine prefix cache on vs off)
//        prefix-routing [--replicas N] [--tenants N] [--requests N] [--concurrency N] [--rounds N]  (prefix_affinity vs least_requests)
//        cold [--shape 700m] [--threads N] [--rounds N] [--wf PATH/wf.dll]   (one-shot wf generate and a fresh wf replica, warm-up on vs off)
if (args is ["cold", ..])
{
    Environment.ExitCode = await ColdStartBench.RunAsync(args[1..]);
    return;
}

if (args is ["prefix", ..])
{
    Environment.ExitCode = await PrefixCacheBench.RunAsync(args[1..]);
    return;
}

if (args is ["prefix-routing", ..])
{
    Environment.ExitCode = await PrefixRoutingBench.RunAsync(args[1..]);
    return;
}

var shape = Arg("--shape", "tiny");
var threads = int.Parse(Arg("--threads", Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);
var requests = int.Parse(Arg("--requests", "4"), CultureInfo.InvariantCulture);
var maxTokens = int.Parse(Arg("--max-tokens", "64"), CultureInfo.InvariantCulture);
var rounds = int.Parse(Arg("--rounds", "3"), CultureInfo.InvariantCulture);
var levels = Arg("--concurrency", "1,4,16,64").Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
var maxSequences = levels.Max();

var path = EngineBenchmark.EnsureSyntheticModel(Path.GetTempPath(), SyntheticShape.Find(shape), GgmlType.TQ2_0);

var engineOptions = new EngineOptions { Threads = threads, MaxSequences = maxSequences, MaxBatchTokens = Math.Max(256, maxSequences), MaxQueue = 1024 };
using var model = Model.Load(path);
using var engine = new InferenceEngine(model, engineOptions);
await using var replica = await ReplicaHost.StartAsync(new ReplicaOptions
{
    ModelPath = path,
    ModelId = "bench",
    Host = "127.0.0.1",
    Port = 0,
    Threads = threads,
    MaxSequences = maxSequences,
    MaxQueue = 1024,
    PeakBandwidthGBps = 10,
});
await replica.WaitUntilReadyAsync(CancellationToken.None);
using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1024 }) { BaseAddress = replica.Address, Timeout = TimeSpan.FromMinutes(10) };
var workload = new Workload(requests, maxTokens);

// Warm-up: JIT and tiered compilation of both paths before anything is timed.
await workload.EngineAsync(engine, 4);
await workload.HttpAsync(http, "bench", 4);

Console.WriteLine($"model {shape} ({new FileInfo(path).Length / 1e6:F1} MB), threads {threads}, {requests} requests x {maxTokens} tokens per client, greedy, best of {rounds} rounds, {Environment.ProcessorCount} cores");
Console.WriteLine();
Console.WriteLine("| clients | engine tok/s | engine TTFT p50 / p99 ms | HTTP tok/s | HTTP TTFT p50 / p99 ms | overhead (tok/s) |");
Console.WriteLine("|--:|--:|--:|--:|--:|--:|");
foreach (var clients in levels)
{
    // Both paths several times, alternating, keeping each one's best: the machine is shared, and a stall should not decide the ratio.
    RunResult? direct = null, served = null;
    for (var round = 0; round < rounds; round++)
    {
        var d = await workload.EngineAsync(engine, clients);
        var s = await workload.HttpAsync(http, "bench", clients);
        direct = direct is null || d.TokensPerSecond > direct.TokensPerSecond ? d : direct;
        served = served is null || s.TokensPerSecond > served.TokensPerSecond ? s : served;
    }

    var overhead = (1 - served!.TokensPerSecond / direct!.TokensPerSecond) * 100;
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"| {clients} | {direct.TokensPerSecond:F0} | {direct.TtftMs(0.5):F1} / {direct.TtftMs(0.99):F1} | {served.TokensPerSecond:F0} | {served.TtftMs(0.5):F1} / {served.TtftMs(0.99):F1} | {overhead:F1}% |"));
}

string Arg(string name, string fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
}
