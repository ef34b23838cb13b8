using System.Text.Json;
using WrinkleFree.Inference.Benchmarking;
using WrinkleFree.Inference.Gguf;
using WrinkleFree.Inference.Models;
using WrinkleFree.Reference;

namespace WrinkleFree.Bench;

/// <summary>
/// <c>engine</c>: the comparison table in one run: this engine on TQ2_0 and I2_S, llama.cpp (LLamaSharp 0.30) on the
/// same TQ2_0 file, prompt 64 / decode 64 at 1 and 2 threads, aggregate decode at 1/4/16 sequences, and the read-bandwidth
/// roofline. Ours runs first: llama.cpp's OpenMP workers keep spinning after it returns and would slow anything after it.
/// </summary>
internal static class EngineVsLlamaCpp
{
    public static int Run(string[] args)
    {
        var shape = SyntheticShape.Find(Arg(args, "--shape") ?? "2b4t");
        var json = args.Contains("--json");
        var dir = Arg(args, "--cache") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".wrinklefree", "bench");
        int[] threads = [1, 2];
        const int prompt = 64, decode = 64;
        var tq2 = EngineBenchmark.EnsureSyntheticModel(dir, shape, GgmlType.TQ2_0);
        var i2s = EngineBenchmark.EnsureSyntheticModel(dir, shape, GgmlType.I2_S);
        var roof = threads.ToDictionary(t => t, EngineBenchmark.MeasureRoofline);
        var rows = new List<EngineBenchmarkResult>();
        foreach (var path in (string[])[tq2, i2s])
        {
            using var model = Model.Load(path);
            foreach (var t in threads)
            {
                rows.Add(EngineBenchmark.Single(model, t, prompt, decode, roof[t]));
                Console.Error.WriteLine($"  {rows[^1]}");
            }

            if (path == tq2)
            {
                foreach (var c in (int[])[1, 4, 16])
                {
                    rows.Add(EngineBenchmark.Concurrent(model, threads.Max(), c, contextTokens: 32, decodeSteps: 32));
                    Console.Error.WriteLine($"  {rows[^1]}");
                }
            }
        }

        long weightBytes;
        using (var m = Model.Load(tq2))
        {
            weightBytes = m.WeightBytesPerStep;
        }

        foreach (var t in threads)
        {
            using var reference = LlamaCppReference.Load(tq2, t, contextSize: prompt + decode + 16, batchSize: prompt);
            var (pp, tg) = reference.Measure(prompt, decode, seed: 1, repetitions: 3);
            var gbps = tg * weightBytes / 1e9;
            rows.Add(new EngineBenchmarkResult
            {
                Engine = "llama.cpp", Type = "TQ2_0", Threads = t, Sequences = 1, PrefillTokensPerSecond = pp, DecodeTokensPerSecond = tg,
                EffectiveGBps = gbps, RooflineFraction = gbps / roof[t],
            });
            Console.Error.WriteLine($"  {rows[^1]}");
        }

        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new { shape = shape.Name, llamacpp = LlamaCppReference.BuildInfo, roofline_gbps = roof, rows }, new JsonSerializerOptions { WriteIndented = true }));
            return 0;
        }

        Console.WriteLine($"shape {shape.Name}; llama.cpp: {LlamaCppReference.BuildInfo}");
        Console.WriteLine($"| engine | type | threads | seqs | prefill tok/s | decode tok/s | GB/s | roofline |");
        Console.WriteLine($"|---|---|---|---|---|---|---|---|");
        foreach (var r in rows)
        {
            Console.WriteLine($"| {r.Engine} | {r.Type} | {r.Threads} | {r.Sequences} | {r.PrefillTokensPerSecond:F1} | {r.DecodeTokensPerSecond:F1} | {r.EffectiveGBps:F1} | {r.RooflineFraction:P0} |");
        }

        foreach (var (t, gb) in roof)
        {
            Console.WriteLine($"read bandwidth, {t} thread(s): {gb:F1} GB/s");
        }

        Ratio("decode, 2 threads, ours TQ2_0 / llama.cpp", rows, r => r.DecodeTokensPerSecond, 2);
        Ratio("prefill, 2 threads, ours TQ2_0 / llama.cpp", rows, r => r.PrefillTokensPerSecond ?? 0, 2);
        var one = rows.First(r => r.Sequences == 1 && r.PrefillTokensPerSecond is null);
        var sixteen = rows.First(r => r.Sequences == 16);
        Console.WriteLine($"16 sequences / 1 sequence aggregate decode: {sixteen.DecodeTokensPerSecond / one.DecodeTokensPerSecond:F2}x");
        return 0;
    }

    private static void Ratio(string label, List<EngineBenchmarkResult> rows, Func<EngineBenchmarkResult, double> metric, int threads)
    {
        var ours = rows.First(r => r.Engine == "wrinklefree" && r.Type == "TQ2_0" && r.Threads == threads && r.PrefillTokensPerSecond is not null);
        var theirs = rows.First(r => r.Engine == "llama.cpp" && r.Threads == threads);
        Console.WriteLine($"{label}: {metric(ours) / metric(theirs):F2}x");
    }

    private static string? Arg(string[] args, string name)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}
