using System.Diagnostics;
using WrinkleFree.Inference.Models;
using WrinkleFree.Inference.Tensors;
using WrinkleFree.Inference.Threading;

namespace WrinkleFree.Inference.Benchmarking;

/// <summary>
/// Measures this engine the way llama-bench does (pp: one prompt batch; tg: one token per step), plus aggregate decode
/// speed with several sequences per step, and relates decode speed to a read bandwidth measured in the same run.
/// Drives <see cref="ModelRunner"/> directly so the numbers are the engine's, not the scheduler's.
/// </summary>
public static class EngineBenchmark
{
    /// <summary>Read bandwidth (GB/s) of this machine with <paramref name="threads"/> threads: the decode roofline.</summary>
    public static double MeasureRoofline(int threads)
    {
        using var pool = new WorkerPool(threads);
        return MemoryBandwidth.MeasureReadGBps(pool);
    }

    /// <summary>Prefill <paramref name="promptTokens"/> then decode <paramref name="decodeTokens"/>, best of <paramref name="repetitions"/>.</summary>
    public static EngineBenchmarkResult Single(Model model, int threads, int promptTokens, int decodeTokens, double roofline, int repetitions = 3)
    {
        using var pool = new WorkerPool(threads);
        var runner = new ModelRunner(model, pool, Math.Max(promptTokens, 1));
        var cache = new KvCache(model.Config, promptTokens + decodeTokens + KvCache.PageTokens);
        var logits = new float[model.Config.VocabSize];
        var prompt = new StepToken[promptTokens];
        var one = new StepToken[1];
        double bestPrefill = 0, bestDecode = 0;
        for (var rep = 0; rep <= repetitions; rep++)
        {
            using var seq = cache.CreateSequence(promptTokens + decodeTokens);
            for (var i = 0; i < promptTokens; i++)
            {
                prompt[i] = new StepToken(TokenAt(model, i), i, seq, i == promptTokens - 1);
            }

            var clock = Stopwatch.StartNew();
            runner.Forward(prompt, logits);
            var prefill = promptTokens / clock.Elapsed.TotalSeconds;
            clock.Restart();
            for (var i = 0; i < decodeTokens; i++)
            {
                one[0] = new StepToken(TokenAt(model, promptTokens + i), promptTokens + i, seq, true);
                runner.Forward(one, logits);
            }

            var decode = decodeTokens / clock.Elapsed.TotalSeconds;
            if (rep > 0)
            {
                // rep 0 is the warm-up: JIT tiers, page faults of the mapping.
                bestPrefill = Math.Max(bestPrefill, prefill);
                bestDecode = Math.Max(bestDecode, decode);
            }
        }

        var gbps = bestDecode * model.WeightBytesPerStep / 1e9;
        return new EngineBenchmarkResult
        {
            Engine = "wrinklefree",
            Type = model.Layers[0].Q.Weight.Type.ToString(),
            Threads = threads,
            Sequences = 1,
            PrefillTokensPerSecond = bestPrefill,
            DecodeTokensPerSecond = bestDecode,
            EffectiveGBps = gbps,
            RooflineFraction = roofline > 0 ? gbps / roofline : null,
        };
    }

    /// <summary>
    /// Decode steps interleaved with bandwidth-probe passes of the same size (the weight bytes of one step): each step's
    /// GB/s is divided by the mean of the probe passes just before and after it, and the median over the steps is
    /// returned. On a host whose bandwidth drifts within seconds (other tenants), this compares the engine with what the
    /// memory system gave at the same moment; the best probe burst of a run against an average decode does not.
    /// </summary>
    public static InterleavedRoofline Interleaved(Model model, int threads, int steps, int warmup = 4)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        using var pool = new WorkerPool(threads);
        using var probe = new MemoryBandwidth.ReadProbe(pool);
        var runner = new ModelRunner(model, pool, 1);
        var cache = new KvCache(model.Config, warmup + steps + KvCache.PageTokens);
        using var seq = cache.CreateSequence(warmup + steps);
        var logits = new float[model.Config.VocabSize];
        var one = new StepToken[1];
        var bytes = model.WeightBytesPerStep;
        var decode = new double[steps];
        var fractions = new double[steps];
        var probes = new double[steps + 1];
        for (var i = 0; i < warmup + steps; i++)
        {
            var j = i - warmup;
            if (j == 0)
            {
                probes[0] = probe.Measure(bytes);
            }

            one[0] = new StepToken(TokenAt(model, i), i, seq, true);
            var start = Stopwatch.GetTimestamp();
            runner.Forward(one, logits);
            var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            if (j >= 0)
            {
                decode[j] = bytes / seconds / 1e9;
                probes[j + 1] = probe.Measure(bytes);
                fractions[j] = decode[j] / ((probes[j] + probes[j + 1]) / 2);
            }
        }

        return new InterleavedRoofline(threads, steps, Median(decode), Median(probes), Median(fractions));
    }

    private static double Median(double[] values)
    {
        var sorted = values.Order().ToArray();
        var mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }

    /// <summary>Aggregate decode tokens/s with <paramref name="sequences"/> sequences advanced together in every step.</summary>
    public static EngineBenchmarkResult Concurrent(Model model, int threads, int sequences, int contextTokens, int decodeSteps, int repetitions = 2)
    {
        using var pool = new WorkerPool(threads);
        var runner = new ModelRunner(model, pool, sequences);
        var cache = new KvCache(model.Config, (long)sequences * (contextTokens + decodeSteps + KvCache.PageTokens));
        var logits = new float[sequences * model.Config.VocabSize];
        var step = new StepToken[sequences];
        double best = 0;
        for (var rep = 0; rep <= repetitions; rep++)
        {
            var seqs = new KvSequence[sequences];
            for (var s = 0; s < sequences; s++)
            {
                seqs[s] = cache.CreateSequence(contextTokens + decodeSteps);
            }

            // Give every sequence a short history so attention does real work, as in a running server.
            for (var p = 0; p < contextTokens; p++)
            {
                for (var s = 0; s < sequences; s++)
                {
                    step[s] = new StepToken(TokenAt(model, p + s), p, seqs[s], false);
                }

                runner.Forward(step, logits);
            }

            var clock = Stopwatch.StartNew();
            for (var i = 0; i < decodeSteps; i++)
            {
                for (var s = 0; s < sequences; s++)
                {
                    step[s] = new StepToken(TokenAt(model, contextTokens + i + s), contextTokens + i, seqs[s], true);
                }

                runner.Forward(step, logits);
            }

            var rate = (double)sequences * decodeSteps / clock.Elapsed.TotalSeconds;
            if (rep > 0)
            {
                best = Math.Max(best, rate);
            }

            foreach (var s in seqs)
            {
                s.Dispose();
            }
        }

        return new EngineBenchmarkResult
        {
            Engine = "wrinklefree",
            Type = model.Layers[0].Q.Weight.Type.ToString(),
            Threads = threads,
            Sequences = sequences,
            DecodeTokensPerSecond = best,
        };
    }

    /// <summary>The synthetic model for (shape, type) under <paramref name="dir"/>, written once (seed 1) and reused.</summary>
    /// <remarks>Every type is written from the same seed, so TQ2_0 and I2_S files hold the same weights.</remarks>
    public static string EnsureSyntheticModel(string dir, SyntheticShape shape, Gguf.GgmlType type, IProgress<double>? progress = null)
    {
        var path = Path.Combine(dir, $"synthetic-{shape.Name}-{type.ToString().ToLowerInvariant()}.gguf");
        if (!File.Exists(path))
        {
            SyntheticModel.Write(path, shape, type, seed: 1, progress: progress);
        }

        return path;
    }

    /// <summary>A fixed, vocabulary-spread token stream (no tokenizer or sampler cost in the measurement).</summary>
    private static int TokenAt(Model model, int i) => (int)((i * 2654435761L) % model.Config.VocabSize);
}
