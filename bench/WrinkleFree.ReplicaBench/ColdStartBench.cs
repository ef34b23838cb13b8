using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using WrinkleFree.Inference.Benchmarking;
using WrinkleFree.Inference.Gguf;
using WrinkleFree.Inference.Models;

namespace WrinkleFree.ReplicaBench;

/// <summary>
/// Cold start: what a fresh process gets from its first prompt. Each round runs, with the warm-up at load on and off, one
/// one-shot <c>wf generate</c> (its JSON prompt tok/s: prompt tokens over time to first token) and one fresh
/// <c>wf replica</c> process answering four streamed completions with different prompts (first request against the later
/// ones, the same path warm; the replica's own time to first token, from its /metrics). The engine's warm figure for the same prompt length comes from the in-process engine bench
/// in the same run. Needs the built wf (<c>dotnet build src/wf -c Release</c>), or <c>--wf PATH</c> to a wf.dll or a published wf.
/// </summary>
internal static class ColdStartBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var shape = BenchArgs.Arg(args, "--shape", "700m");
        var threads = BenchArgs.Int(args, "--threads", Environment.ProcessorCount);
        var rounds = BenchArgs.Int(args, "--rounds", 2);
        var wf = BenchArgs.Arg(args, "--wf", Path.Combine(Benchmarks.BenchRepository.Root() ?? Directory.GetCurrentDirectory(), "src", "wf", "bin", "Release", "net10.0", "wf.dll"));
        if (!File.Exists(wf))
        {
            Console.Error.WriteLine($"no built wf at {wf}: run `dotnet build src/wf -c Release` first, or pass --wf PATH/wf.dll");
            return 2;
        }

        var path = EngineBenchmark.EnsureSyntheticModel(Path.GetTempPath(), SyntheticShape.Find(shape), GgmlType.TQ2_0);
        Console.WriteLine($"model {shape}, threads {threads}, {rounds} rounds, {Environment.ProcessorCount} cores; wf {wf}");
        Console.WriteLine();
        Console.WriteLine("| round | warm-up | one-shot prompt tok/s | warm-up s | replica ready s | replica request 1 / 2 / 3 / 4 prompt tok/s | first / mean of 2-4 |");
        Console.WriteLine("|--:|---|--:|--:|--:|---|--:|");
        var promptTokens = 0;
        for (var round = 1; round <= rounds; round++)
        {
            foreach (var warm in new[] { true, false })
            {
                var (oneShot, warmUpSeconds, tokens) = await OneShotAsync(wf, path, threads, warm);
                promptTokens = tokens;
                var (ready, replica) = await ReplicaAsync(wf, path, threads, warm);
                var later = replica.Skip(1).Average();
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {round} | {(warm ? "on" : "off")} | {oneShot:F0} | {warmUpSeconds:F2} | {ready:F2} | {string.Join(" / ", replica.Select(r => r.ToString("F0", CultureInfo.InvariantCulture)))} | {replica[0] / later * 100:F0} % |"));
            }
        }

        // The engine alone, warm (after its own warm-up repetition), on a prompt of the same length, for reference.
        using var model = Model.Load(path);
        var engine = EngineBenchmark.Single(model, threads, promptTokens, 16, 0);
        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"engine warm (in-process forward, best of 3 after a warm-up): prompt {promptTokens} tokens at {engine.PrefillTokensPerSecond:F0} tok/s, decode {engine.DecodeTokensPerSecond:F1} tok/s"));
        return 0;
    }

    private static string Prompt(int offset) => string.Join(' ', Enumerable.Range(offset, 40).Select(i => $"word{i}"));

    private static async Task<(double PromptTps, double WarmUpSeconds, int PromptTokens)> OneShotAsync(string wf, string model, int threads, bool warm)
    {
        var arguments = new List<string> { "generate", "-m", model, "-p", Prompt(0), "-n", "16", "--json", "-t", threads.ToString(CultureInfo.InvariantCulture) };
        if (!warm)
        {
            arguments.Add("--no-warmup");
        }

        var start = Start(wf, arguments);
        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"wf generate exited {process.ExitCode}: {error}");
        }

        var json = JsonNode.Parse(output)!;
        return (json["prompt_tokens_per_second"]!.GetValue<double>(), json["warmup_seconds"]!.GetValue<double>(), json["prompt_token_ids"]!.AsArray().Count);
    }

    private static async Task<(double ReadySeconds, double[] PromptTps)> ReplicaAsync(string wf, string model, int threads, bool warm)
    {
        var port = FreePort();
        var start = Start(wf,
        [
            "replica", "--model", model, "--host", "127.0.0.1", "--port", port.ToString(CultureInfo.InvariantCulture), "--threads", threads.ToString(CultureInfo.InvariantCulture),
            "--warmup", warm ? "on" : "off", "--prefix-cache", "off", "--peak-bandwidth", "50", "--model-id", "cold",
        ]);
        using var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TimeSpan.FromMinutes(5) };
            var clock = Stopwatch.StartNew();
            while (true)
            {
                if (process.HasExited)
                {
                    throw new InvalidOperationException($"wf replica exited {process.ExitCode} before it was ready");
                }

                try
                {
                    using var health = await http.GetAsync("health");
                    if (health.IsSuccessStatusCode)
                    {
                        break;
                    }
                }
                catch (HttpRequestException)
                {
                }

                await Task.Delay(20);
            }

            var ready = clock.Elapsed.TotalSeconds;
            var rates = new double[4];
            for (var r = 0; r < rates.Length; r++)
            {
                rates[r] = await PromptRateAsync(http, Prompt(100 * (r + 1)));
            }

            return (ready, rates);
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }

    /// <summary>
    /// Prompt tokens over the replica's own time to first token for one completion: the increase of its
    /// wf_time_to_first_token_seconds sum across the request. Measured server-side because this bench's client shares the
    /// two cores with the replica, and its own first requests (JIT, connection) showed as 20-30 points of the replica's.
    /// </summary>
    private static async Task<double> PromptRateAsync(HttpClient http, string prompt)
    {
        var before = await TtftSumAsync(http);
        var promptTokens = await CompletionAsync(http, prompt);
        return promptTokens / (await TtftSumAsync(http) - before);
    }

    private static async Task<double> TtftSumAsync(HttpClient http)
    {
        var text = await http.GetStringAsync("metrics");
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith("wf_time_to_first_token_seconds_sum ", StringComparison.Ordinal))
            {
                return double.Parse(line["wf_time_to_first_token_seconds_sum ".Length..], CultureInfo.InvariantCulture);
            }
        }

        throw new InvalidOperationException("the replica's /metrics has no wf_time_to_first_token_seconds_sum");
    }

    /// <summary>
    /// One completion of a single token, not streamed, so this process does nothing while the replica works (it shares the
    /// two cores); returns its prompt tokens.
    /// </summary>
    private static async Task<int> CompletionAsync(HttpClient http, string prompt)
    {
        var body = JsonSerializer.Serialize(new { model = "cold", prompt, max_tokens = 1, temperature = 0 });
        using var response = await http.PostAsync("v1/completions", new StringContent(body, Encoding.UTF8, "application/json"));
        response.EnsureSuccessStatusCode();
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!["usage"]!["prompt_tokens"]!.GetValue<int>();
    }

    /// <summary>wf.dll runs through dotnet; anything else (a published wf or wf-serving) runs as it is.</summary>
    private static ProcessStartInfo Start(string wf, IEnumerable<string> arguments)
    {
        var dll = wf.EndsWith(".dll", StringComparison.OrdinalIgnoreCase);
        var start = new ProcessStartInfo(dll ? "dotnet" : wf) { RedirectStandardOutput = true, RedirectStandardError = true };
        if (dll)
        {
            start.ArgumentList.Add(wf);
        }

        foreach (var a in arguments)
        {
            start.ArgumentList.Add(a);
        }

        return start;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}
