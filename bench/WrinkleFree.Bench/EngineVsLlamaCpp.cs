using System.Text.Json;
using WrinkleFree.Inference.Benchmarking;
using WrinkleFree.Inference.Gguf;
using WrinkleFree.Inference.Models;
using WrinkleFree.Reference;

namespace WrinkleFree.Bench;

/// <summary>
/// <c>engine</c>: the comparison table in one run: this engine on TQ2_0 and I2_S, llama.cpp (LLamaSharp 0.30) on the
/// same TQ2_0 file, prompt 64 / decode 64 at 1 and 2 threads, aggregate decode at 1/4/16 sequences, and the read-bandwidth
/// roofline, in interleaved rounds (best round per row). Ours runs first in a round: llama.cpp's OpenMP workers keep
/// spinning after it returns and would slow anything right after it.
/// </summary>
internal static class EngineVsLlamaCpp
{
    private const int PairedRounds = 5;

    public static int Run(string[] args)
    {
        var shape = SyntheticShape.Find(BenchArgs.Arg(args, "--shape") ?? "2b4t");
        var json = args.Contains("--json");
        var dir = BenchArgs.Arg(args, "--cache") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".wrinklefree", "bench");
        var rounds = int.Parse(BenchArgs.Arg(args, "--rounds") ?? "3");
        int[] threads = [1, 2];
        const int prompt = 64, decode = 64;
        var tq2 = EngineBenchmark.EnsureSyntheticModel(dir, shape, GgmlType.TQ2_0);
        var i2s = EngineBenchmark.EnsureSyntheticModel(dir, shape, GgmlType.I2_S);
        var peers = LlamaBenchPeer.Parse(args);
        // Every file holds the same weights (seed 1): a peer on its own ternary type runs what ours runs.
        var peerModels = peers.Select(p => p.Type).Distinct().ToDictionary(t => t, t => EngineBenchmark.EnsureSyntheticModel(dir, shape, t));
        var roof = threads.ToDictionary(t => t, _ => 0.0);
        var best = new Dictionary<string, EngineBenchmarkResult>();
        using var tq2Model = Model.Load(tq2);
        using var i2sModel = Model.Load(i2s);
        var weightBytes = tq2Model.WeightBytesPerStep;

        // Aggregate decode of several sequences at the most threads, measured the same way for the rows and the pairs.
        EngineBenchmarkResult Aggregate(Model model, int sequences) =>
            EngineBenchmark.Concurrent(model, threads.Max(), sequences, contextTokens: 32, decodeSteps: 32, repetitions: 1);

        // Rounds interleave every row (ours, then llama.cpp) and each row keeps its best round: on a shared machine whose
        // load and memory bandwidth drift over minutes, rows measured minutes apart are not comparable, rows of one round are.
        for (var round = 0; round < rounds; round++)
        {
            foreach (var t in threads)
            {
                roof[t] = Math.Max(roof[t], EngineBenchmark.MeasureRoofline(t));
            }

            foreach (var model in (Model[])[tq2Model, i2sModel])
            {
                foreach (var t in threads)
                {
                    Keep(best, EngineBenchmark.Single(model, t, prompt, decode, roof[t], repetitions: 1));
                }

                if (model == tq2Model)
                {
                    foreach (var c in (int[])[1, 4, 16])
                    {
                        Keep(best, Aggregate(model, c));
                    }
                }
            }

            foreach (var t in threads)
            {
                using var reference = LlamaCppReference.Load(tq2, t, contextSize: prompt + decode + 16, batchSize: prompt);
                var (pp, tg) = reference.Measure(prompt, decode, seed: 1, repetitions: 1);
                var gbps = tg * weightBytes / 1e9;
                Keep(best, new EngineBenchmarkResult
                {
                    Engine = "llama.cpp", Type = "TQ2_0", Threads = t, Sequences = 1, PrefillTokensPerSecond = pp, DecodeTokensPerSecond = tg,
                    EffectiveGBps = gbps, RooflineFraction = gbps / roof[t],
                });
            }

            foreach (var peer in peers)
            {
                foreach (var t in threads)
                {
                    var (pp, tg) = peer.Measure(peerModels[peer.Type], t, prompt, decode);
                    var gbps = tg * weightBytes / 1e9;
                    Keep(best, new EngineBenchmarkResult
                    {
                        Engine = peer.Name, Type = peer.Type.ToString(), Threads = t, Sequences = 1, PrefillTokensPerSecond = pp, DecodeTokensPerSecond = tg,
                        EffectiveGBps = gbps, RooflineFraction = gbps / roof[t],
                    });
                }

                Thread.Sleep(1000);
            }

            // llama.cpp's OpenMP workers spin for a while after a run; let them park before the next round of ours.
            Thread.Sleep(1000);
            Console.Error.WriteLine($"  round {round + 1}/{rounds} done");
        }

        // The same roofline question asked step by step: each decode step against the probe passes right around it.
        var interleaved = threads.Select(t => EngineBenchmark.Interleaved(tq2Model, t, steps: 64)).ToList();

        // The 16-over-1 ratio from rates measured back to back: the best-round rows above divide a 16-sequence rate by a
        // one-sequence rate from whichever round was luckiest for each, and the one-sequence rate moves most with the host.
        var paired = new List<double>();
        for (var pair = 0; pair < PairedRounds; pair++)
        {
            var oneRate = Aggregate(tq2Model, 1).DecodeTokensPerSecond;
            paired.Add(Aggregate(tq2Model, 16).DecodeTokensPerSecond / oneRate);
        }

        paired.Sort();

        // Fractions against the best bandwidth seen in any round: the conservative reading.
        var rows = best.Values.Select(r => r.EffectiveGBps is { } g ? r with { RooflineFraction = g / roof[r.Threads] } : r).ToList();
        foreach (var r in rows)
        {
            Console.Error.WriteLine($"  {r}");
        }

        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new { shape = shape.Name, llamacpp = LlamaCppReference.BuildInfo, roofline_gbps = roof, rows, interleaved, sixteen_over_one_paired = paired }, new JsonSerializerOptions { WriteIndented = true }));
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

        foreach (var i in interleaved)
        {
            Console.WriteLine($"roofline interleaved, TQ2_0, {i.Threads} thread(s): {i.Describe()}");
        }

        Ratio("decode, 2 threads, ours TQ2_0 / llama.cpp", rows, r => r.DecodeTokensPerSecond, 2);
        Ratio("prefill, 2 threads, ours TQ2_0 / llama.cpp", rows, r => r.PrefillTokensPerSecond ?? 0, 2);
        foreach (var peer in peers)
        {
            foreach (var t in threads)
            {
                var ours = rows.First(r => r.Engine == "wrinklefree" && r.Type == "TQ2_0" && r.Threads == t && r.PrefillTokensPerSecond is not null);
                var theirs = rows.First(r => r.Engine == peer.Name && r.Threads == t);
                Console.WriteLine($"{t} thread(s), ours TQ2_0 / {peer.Name} {peer.Type}: decode {ours.DecodeTokensPerSecond / theirs.DecodeTokensPerSecond:F2}x, prefill {(ours.PrefillTokensPerSecond ?? 0) / (theirs.PrefillTokensPerSecond ?? 1):F2}x");
            }
        }
        var one = rows.First(r => r.Sequences == 1 && r.PrefillTokensPerSecond is null);
        var sixteen = rows.First(r => r.Sequences == 16);
        Console.WriteLine($"16 sequences / 1 sequence aggregate decode: {sixteen.DecodeTokensPerSecond / one.DecodeTokensPerSecond:F2}x");
        Console.WriteLine($"16 sequences / 1 sequence, {PairedRounds} pairs measured back to back: median {paired[paired.Count / 2]:F2}x (range {paired[0]:F2}-{paired[^1]:F2}x)");
        return 0;
    }

    /// <summary>Merges a measurement into its row: each rate keeps its best round.</summary>
    private static void Keep(Dictionary<string, EngineBenchmarkResult> best, EngineBenchmarkResult r)
    {
        var key = $"{r.Engine}/{r.Type}/{r.Threads}/{r.Sequences}/{r.PrefillTokensPerSecond is null}";
        if (best.TryGetValue(key, out var old))
        {
            var decode = Math.Max(old.DecodeTokensPerSecond, r.DecodeTokensPerSecond);
            var bytesPerToken = r.EffectiveGBps / r.DecodeTokensPerSecond;
            r = r with
            {
                PrefillTokensPerSecond = r.PrefillTokensPerSecond is { } p ? Math.Max(p, old.PrefillTokensPerSecond ?? 0) : null,
                DecodeTokensPerSecond = decode,
                EffectiveGBps = bytesPerToken * decode,
            };
        }

        best[key] = r;
    }

    private static void Ratio(string label, List<EngineBenchmarkResult> rows, Func<EngineBenchmarkResult, double> metric, int threads)
    {
        var ours = rows.First(r => r.Engine == "wrinklefree" && r.Type == "TQ2_0" && r.Threads == threads && r.PrefillTokensPerSecond is not null);
        var theirs = rows.First(r => r.Engine == "llama.cpp" && r.Threads == threads);
        Console.WriteLine($"{label}: {metric(ours) / metric(theirs):F2}x");
    }
}
