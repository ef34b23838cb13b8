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
    public static InterleavedRoofline Interleaved(Model model, int threads, int steps, int warmup = 4) =>
        Interleaved(model, threads, steps, warmup, [0])[0];

    /// <summary>
    /// <see cref="Interleaved(Model, int, int, int)"/> for several pool chunkings at once: step i runs with
    /// <paramref name="chunksPerThread"/>[i mod n] (0: the pool's default), so every setting meets the same drifting
    /// machine, and one result per setting comes back.
    /// </summary>
    public static InterleavedRoofline[] Interleaved(Model model, int threads, int steps, int warmup, int[] chunksPerThread)
    {
        ArgumentNullException.ThrowIfNull(chunksPerThread);
        ArgumentOutOfRangeException.ThrowIfLessThan(chunksPerThread.Length, 1);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        using var pool = new WorkerPool(threads);
        using var probe = new MemoryBandwidth.ReadProbe(pool);
        var runner = new ModelRunner(model, pool, 1);
        var settings = chunksPerThread.Length;
        var total = warmup + steps * settings;
        var cache = new KvCache(model.Config, total + KvCache.PageTokens);
        using var seq = cache.CreateSequence(total);
        var logits = new float[model.Config.VocabSize];
        var one = new StepToken[1];
        var bytes = model.WeightBytesPerStep;
        var defaultChunks = pool.ChunksPerThread;
        var decode = new double[settings][];
        var fractions = new double[settings][];
        var probes = new List<double>[settings];
        for (var s = 0; s < settings; s++)
        {
            decode[s] = new double[steps];
            fractions[s] = new double[steps];
            probes[s] = [];
        }

        var before = 0.0;
        for (var i = 0; i < total; i++)
        {
            var j = i - warmup;
            var s = j >= 0 ? j % settings : 0;
            if (j == 0)
            {
                before = probe.Measure(bytes);
            }

            pool.ChunksPerThread = chunksPerThread[s] > 0 ? chunksPerThread[s] : defaultChunks;
            one[0] = new StepToken(TokenAt(model, i), i, seq, true);
            var start = Stopwatch.GetTimestamp();
            runner.Forward(one, logits);
            var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            pool.ChunksPerThread = defaultChunks;
            if (j >= 0)
            {
                var after = probe.Measure(bytes);
                decode[s][j / settings] = bytes / seconds / 1e9;
                fractions[s][j / settings] = decode[s][j / settings] / ((before + after) / 2);
                probes[s].Add(before);
                probes[s].Add(after);
                before = after;
            }
        }

        return [.. Enumerable.Range(0, settings).Select(s => new InterleavedRoofline(threads, steps, Median(decode[s]), Median([.. probes[s]]), Median(fractions[s])))];
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
