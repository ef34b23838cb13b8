using System.Diagnostics;
using System.Text;

namespace WrinkleFree.LbBench;

/// <summary>Latency and throughput of one phase: open loop at a fixed rate, or closed loop at a fixed concurrency.</summary>
internal sealed record LoadRun(string Target, int Completed, int Errors, double Seconds, double[] LatenciesMs, TimeSpan Cpu)
{
    private static readonly byte[] RequestBody =
        """{"model":"echo","prompt":"hello","max_tokens":1}"""u8.ToArray();

    public double RequestsPerSecond => Completed / Seconds;

    /// <summary>
    /// Process CPU time (client, replica and balancer together) per request: unlike latency it hardly moves when other
    /// processes compete for the cores, so the direct/balancer difference is the balancer's own cost per request.
    /// </summary>
    public double CpuMicrosecondsPerRequest => Cpu.TotalMicroseconds / Math.Max(1, Completed + Errors);

    public double Percentile(double p)
    {
        if (LatenciesMs.Length == 0)
        {
            return double.NaN;
        }

        var index = (int)Math.Ceiling(p / 100 * LatenciesMs.Length) - 1;
        return LatenciesMs[Math.Clamp(index, 0, LatenciesMs.Length - 1)];
    }

    /// <summary>
    /// Sends requests on a fixed schedule (open loop, so a slow response does not slow the offered load) and records
    /// each one's latency from its send to the end of its body.
    /// </summary>
    public static async Task<LoadRun> OpenLoopAsync(string target, HttpClient client, Uri url, int rate, TimeSpan duration)
    {
        var total = (int)(rate * duration.TotalSeconds);
        var latencies = new double[total];
        var inflight = new Task[total];
        var errors = 0;
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < total; i++)
        {
            var due = TimeSpan.FromSeconds((double)i / rate);
            var wait = due - clock.Elapsed;
            if (wait > TimeSpan.FromMilliseconds(1))
            {
                await Task.Delay(wait);
            }

            var slot = i;
            inflight[i] = Task.Run(async () =>
            {
                var (ms, ok) = await SendAsync(client, url);
                latencies[slot] = ms;
                if (!ok)
                {
                    Interlocked.Increment(ref errors);
                }
            });
        }

        await Task.WhenAll(inflight);
        var seconds = clock.Elapsed.TotalSeconds;
        cpu = Process.GetCurrentProcess().TotalProcessorTime - cpu;
        Array.Sort(latencies);
        return new LoadRun(target, total - errors, errors, seconds, latencies, cpu);
    }

    /// <summary>Keeps <paramref name="concurrency"/> requests outstanding for the duration: the most this setup sustains.</summary>
    public static async Task<LoadRun> ClosedLoopAsync(string target, HttpClient client, Uri url, int concurrency, TimeSpan duration)
    {
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        var errors = 0;
        var perWorker = new List<double>[concurrency];
        var workers = Enumerable.Range(0, concurrency).Select(w => Task.Run(async () =>
        {
            var mine = perWorker[w] = new List<double>(4096);
            while (clock.Elapsed < duration)
            {
                var (ms, ok) = await SendAsync(client, url);
                mine.Add(ms);
                if (!ok)
                {
                    Interlocked.Increment(ref errors);
                }
            }
        })).ToArray();
        await Task.WhenAll(workers);
        var seconds = clock.Elapsed.TotalSeconds;
        cpu = Process.GetCurrentProcess().TotalProcessorTime - cpu;
        var latencies = perWorker.SelectMany(l => l).ToArray();
        Array.Sort(latencies);
        return new LoadRun(target, latencies.Length - errors, errors, seconds, latencies, cpu);
    }

    private static async Task<(double Ms, bool Ok)> SendAsync(HttpClient client, Uri url)
    {
        var start = Stopwatch.GetTimestamp();
        try
        {
            using var content = new ByteArrayContent(RequestBody);
            content.Headers.ContentType = new("application/json");
            using var response = await client.PostAsync(url, content);
            await response.Content.ReadAsByteArrayAsync();
            return (Stopwatch.GetElapsedTime(start).TotalMilliseconds, response.IsSuccessStatusCode);
        }
        catch (HttpRequestException)
        {
            return (Stopwatch.GetElapsedTime(start).TotalMilliseconds, false);
        }
    }

    public string Row() => new StringBuilder()
        .Append($"| {Target} | {RequestsPerSecond,8:F0} | {Percentile(50),6:F3} | {Percentile(90),6:F3} | {Percentile(99),6:F3} | {Percentile(99.9),6:F3} | {CpuMicrosecondsPerRequest,6:F0} | {Errors} |")
        .ToString();
}
