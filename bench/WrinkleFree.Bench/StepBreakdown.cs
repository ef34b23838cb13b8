using WrinkleFree.Inference.Benchmarking;
using WrinkleFree.Inference.Gguf;
using WrinkleFree.Inference.Models;
using WrinkleFree.Inference.Threading;

namespace WrinkleFree.Bench;

/// <summary>
/// <c>profile</c>: where a step's time goes (Stopwatch laps per <see cref="StepPhase"/>) for decode with 1 and 16
/// sequences and a 64-token prefill on the synthetic 2B4T model: the matmuls against everything else.
/// </summary>
internal static class StepBreakdown
{
    public static int Run(string[] args)
    {
        var threads = 2;
        var type = GgmlType.TQ2_0;
        int[]? chunkings = null;
        // Cached positions each sequence holds before the measured decode steps (attention reads all of them every step).
        var context = 1;
        // --batched-only: just the 16-sequence column and the ceiling line (attention experiments at long contexts).
        var batchedOnly = false;
        var dir = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".wrinklefree", "bench");
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--threads": threads = int.Parse(args[++i]); break;
                case "--type": type = Enum.Parse<GgmlType>(args[++i], ignoreCase: true); break;
                case "--cache": dir = args[++i]; break;
                case "--chunks": chunkings = [.. args[++i].Split(',').Select(int.Parse)]; break;
                case "--context": context = int.Parse(args[++i]); break;
                case "--batched-only": batchedOnly = true; break;
                default: Console.Error.WriteLine($"unknown option {args[i]}"); return 2;
            }
        }

        var path = EngineBenchmark.EnsureSyntheticModel(dir, SyntheticShape.Find("2b4t"), type);
        var loadClock = System.Diagnostics.Stopwatch.StartNew();
        using var model = Model.Load(path);
        Console.WriteLine($"loaded in {loadClock.Elapsed.TotalSeconds:F2} s (mapping, repacks and the load-time copies)");
        if (chunkings != null)
        {
            // Only the interleaved roofline, one decode step per chunking in turn, so they meet the same machine.
            var results = EngineBenchmark.Interleaved(model, threads, steps: 32, warmup: 4, chunkings);
            for (var c = 0; c < chunkings.Length; c++)
            {
                Console.WriteLine($"{chunkings[c]} chunks per thread: {results[c].Describe()}");
            }

            return 0;
        }

        using var pool = new WorkerPool(threads);
        var repacked = model.Layers.Sum(l => (l.Q.Weight.Repacked ? 1 : 0) + (l.Down.Weight.Repacked ? 1 : 0));
        Console.WriteLine($"{Path.GetFileName(path)}, {threads} threads, {repacked} of {2 * model.Layers.Count} q/down matrices repacked; ms per step (best of 3 rounds)");
        if (File.Exists("/proc/self/status"))
        {
            // After load: a repacked tensor's file pages were dropped, so file-backed RSS excludes them.
            var rss = File.ReadAllLines("/proc/self/status").Where(l => l.StartsWith("RssAnon") || l.StartsWith("RssFile"));
            Console.WriteLine($"model file {new FileInfo(path).Length / 1048576} MiB; {string.Join("; ", rss.Select(l => string.Join(' ', l.Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries))))}");
        }

        Console.WriteLine($"decode steps after a {context}-token context per sequence");
        Console.WriteLine($"{"phase",-22} {"decode x1",10} {"decode x16",11} {"prefill 64",11}");
        var none = new double[Enum.GetValues<StepPhase>().Length];
        var decode1 = batchedOnly ? none : Measure(model, pool, sequences: 1, promptTokens: context, steps: 32);
        var decode16 = Measure(model, pool, sequences: 16, promptTokens: context, steps: 8);
        var prefill = batchedOnly ? none : Measure(model, pool, sequences: 1, promptTokens: 64, steps: 0);
        foreach (var phase in Enum.GetValues<StepPhase>())
        {
            Console.WriteLine($"{phase,-22} {decode1[(int)phase],10:F2} {decode16[(int)phase],11:F2} {prefill[(int)phase],11:F2}");
        }

        Console.WriteLine($"{"total",-22} {decode1.Sum(),10:F2} {decode16.Sum(),11:F2} {prefill.Sum(),11:F2}");
        Console.WriteLine($"{"matmul share",-22} {Matmul(decode1),10:P0} {Matmul(decode16),11:P0} {Matmul(prefill),11:P0}");
        // The compute side: a 16-sequence step's multiply-accumulates against the int8 MAC rate of these threads.
        var ceiling = MacCeiling.MeasureGMacs(pool);
        var macs = 16.0 * MacsPerToken(model);
        Console.WriteLine(double.IsNaN(ceiling)
            ? $"int8 MAC ceiling: not measured (the probe is AVX-512 code and this runtime reports no AVX-512); a 16-sequence step is {macs / 1e9:F1} GMAC"
            : $"int8 MAC ceiling (vpmaddubsw+vpaddw only, {threads} threads): {ceiling:F0} GMAC/s; a 16-sequence step is {macs / 1e9:F1} GMAC: " +
              $">= {macs / ceiling / 1e6:F1} ms at that rate, measured {decode16.Sum():F1} ms ({macs / ceiling / 1e6 / decode16.Sum():P0} of the ceiling)");
        if (batchedOnly)
        {
            return 0;
        }

        var roofline = EngineBenchmark.Interleaved(model, threads, steps: 32);
        Console.WriteLine($"decode steps interleaved with probe passes of the same bytes: {roofline.Describe()}");
        return 0;
    }

    /// <summary>Multiply-accumulates of one decoded token: every projection and the LM head.</summary>
    private static double MacsPerToken(Model model)
    {
        double total = (double)model.Output.Weight.Rows * model.Output.Weight.Columns;
        foreach (var l in model.Layers)
        {
            foreach (var m in (LinearLayer[])[l.Q, l.K, l.V, l.O, l.Gate, l.Up, l.Down])
            {
                total += (double)m.Weight.Rows * m.Weight.Columns;
            }
        }

        return total;
    }

    private static double Matmul(double[] ms) => ms.Sum() == 0 ? 0 :
        (ms[(int)StepPhase.QkvMatmul] + ms[(int)StepPhase.OutputMatmul] + ms[(int)StepPhase.GateUpMatmul]
            + ms[(int)StepPhase.DownMatmul] + ms[(int)StepPhase.Head]) / ms.Sum();

    /// <summary>
    /// Per-phase milliseconds of one step: a prefill of <paramref name="promptTokens"/> per sequence (when
    /// <paramref name="steps"/> is 0) or one decode step of every sequence, from the round with the least total. Decode
    /// rounds continue the same sequences (prefilled once, so a 16 × 512-token context costs one prefill, not four); each
    /// round adds <paramref name="steps"/> positions to the context.
    /// </summary>
    private static double[] Measure(Model model, WorkerPool pool, int sequences, int promptTokens, int steps)
    {
        const int Rounds = 4;
        var phases = Enum.GetValues<StepPhase>().Length;
        var runner = new ModelRunner(model, pool, Math.Max(sequences, promptTokens));
        var capacity = promptTokens + Rounds * steps + 1;
        var cache = new KvCache(model.Config, (long)sequences * (capacity + 2 * KvCache.PageTokens));
        var logits = new float[sequences * model.Config.VocabSize];
        var profile = new StepProfile();
        double[]? best = null;
        KvSequence[]? seqs = null;
        var position = promptTokens;
        for (var round = 0; round < Rounds; round++)
        {
            if (seqs == null || steps == 0)
            {
                foreach (var s in seqs ?? [])
                {
                    s.Dispose();
                }

                seqs = Enumerable.Range(0, sequences).Select(_ => cache.CreateSequence(capacity)).ToArray();
                // Only the phase being measured is timed: the prefill when there are no decode steps, else the decode steps.
                runner.Profile = steps == 0 ? profile : null;
                profile.Reset();
                // One prompt batch per sequence: the runner holds at most max(sequences, promptTokens) tokens a step.
                foreach (var seq in seqs)
                {
                    var batch = new StepToken[promptTokens];
                    for (var p = 0; p < promptTokens; p++)
                    {
                        batch[p] = new StepToken(Token(model, p), p, seq, p == promptTokens - 1);
                    }

                    runner.Forward(batch, logits);
                }
            }

            runner.Profile = profile;
            if (steps > 0)
            {
                profile.Reset();
            }

            var step = new StepToken[sequences];
            for (var i = 0; i < steps; i++, position++)
            {
                for (var s = 0; s < sequences; s++)
                {
                    step[s] = new StepToken(Token(model, position + s), position, seqs[s], true);
                }

                runner.Forward(step, logits);
            }

            var ms = Enumerable.Range(0, phases).Select(p => profile.Milliseconds((StepPhase)p) / profile.Steps).ToArray();
            // Round 0 warms up (JIT, page faults).
            if (round > 0 && (best == null || ms.Sum() < best.Sum()))
            {
                best = ms;
            }
        }

        foreach (var s in seqs!)
        {
            s.Dispose();
        }

        return best!;
    }

    private static int Token(Model model, int i) => (int)((i * 2654435761L) % model.Config.VocabSize);
}
