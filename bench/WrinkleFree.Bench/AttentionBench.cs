using System.Diagnostics;
using WrinkleFree.Inference.Models;

namespace WrinkleFree.Bench;

/// <summary>
/// Decode attention alone on the 2B4T shape (20 query heads over 5 KV heads of 128): `WrinkleFree.Bench attention`. Fills
/// a cache with random keys and values for several sequences at one context, then times one thread running every item
/// a decode step has (sequence × layer × KV head, its four query heads together), as the step's attention phase does. Each
/// item's cached rows come from memory (the cache is larger than the caches), and from cache with `--resident` (one
/// sequence's layer repeated), which separates the arithmetic from the reads.
/// </summary>
internal static unsafe class AttentionBench
{
    public static int Run(string[] args)
    {
        var context = 512;
        var sequences = 16;
        var precision = KvPrecision.F16;
        var resident = false;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--context": context = int.Parse(args[++i]); break;
                case "--sequences": sequences = int.Parse(args[++i]); break;
                case "--cache-type": precision = Enum.Parse<KvPrecision>(args[++i], ignoreCase: true); break;
                case "--resident": resident = true; break;
                default: Console.Error.WriteLine($"unknown option {args[i]}"); return 2;
            }
        }

        var shape = SyntheticShape.B2B4T;
        var config = new ModelConfig
        {
            Architecture = ArchitectureSpec.Find("bitnet-b1.58"),
            Dim = shape.Dim, Layers = shape.Layers, Heads = shape.Heads, KvHeads = shape.KvHeads, HeadDim = shape.HeadDim,
            FfnDim = shape.FfnDim, VocabSize = shape.VocabSize, ContextLength = shape.ContextLength, NormEps = 1e-5f,
            RopeBase = 500000, RopeDims = shape.HeadDim, Activation = shape.Activation,
        };
        using var cache = new KvCache(config, (long)sequences * (context + 2 * KvCache.PageTokens), precision: precision);
        var random = new Random(1);
        var row = new float[config.HeadDim];
        var seqs = new KvSequence[sequences];
        for (var s = 0; s < sequences; s++)
        {
            seqs[s] = cache.CreateSequence(context + 1);
            seqs[s].EnsureCapacity(context + 1);
            for (var layer = 0; layer < config.Layers; layer++)
            {
                for (var p = 0; p < context + 1; p++)
                {
                    for (var h = 0; h < config.KvHeads; h++)
                    {
                        for (var kv = 0; kv < 2; kv++)
                        {
                            for (var d = 0; d < row.Length; d++)
                            {
                                row[d] = (float)(random.NextDouble() * 2 - 1);
                            }

                            seqs[s].Store(layer, kv, p, h, row);
                        }
                    }
                }
            }

            seqs[s].Commit(context + 1);
        }

        var group = config.Heads / config.KvHeads;
        var q = GC.AllocateArray<float>(config.QDim, pinned: true);
        var output = GC.AllocateArray<float>(config.QDim, pinned: true);
        var scores = GC.AllocateArray<float>(group * (context + 1), pinned: true);
        // The step's page-conversion buffer, started on a cache line as the step starts it.
        var rows = GC.AllocateArray<float>(ModelRunner.AttentionWork.RowsFloats(config.HeadDim), pinned: true);
        foreach (ref var v in q.AsSpan())
        {
            v = (float)(random.NextDouble() * 2 - 1);
        }

        var scale = 1f / MathF.Sqrt(config.HeadDim);
        fixed (float* pq = q)
        fixed (float* po = output)
        fixed (float* ps = scores)
        fixed (float* pin = rows)
        {
            var pr = ModelRunner.AttentionWork.Aligned(pin);
            var items = sequences * config.Layers * config.KvHeads;
            Console.WriteLine($"{sequences} sequences x {context + 1} positions, {precision}, {(resident ? "one layer's rows (in cache)" : "every layer's rows (from memory)")}, 1 thread");
            var best = double.MaxValue;
            Step(config, seqs, resident, pq, po, ps, pr, scale);
            var clock = Stopwatch.StartNew();
            for (var round = 0; round < 5 || clock.Elapsed.TotalSeconds < 3; round++)
            {
                var start = Stopwatch.GetTimestamp();
                Step(config, seqs, resident, pq, po, ps, pr, scale);
                best = Math.Min(best, Stopwatch.GetElapsedTime(start).TotalSeconds);
            }

            var bytes = (double)items * 2 * (context + 1) * config.HeadDim * (precision == KvPrecision.F16 ? 2 : 4);
            Console.WriteLine($"a step's attention: {best * 1e3:F2} ms on 1 thread ({best * 1e6 / items:F2} us an item, {bytes / best / 1e9:F1} GB/s of cached rows)");
        }

        foreach (var s in seqs)
        {
            s.Dispose();
        }

        return 0;
    }

    /// <summary>Every item of one decode step (sequence × layer × KV head), in the step's order.</summary>
    private static void Step(ModelConfig config, KvSequence[] seqs, bool resident, float* q, float* output, float* scores, float* rows, float scale)
    {
        var group = config.Heads / config.KvHeads;
        for (var layer = 0; layer < config.Layers; layer++)
        {
            for (var s = 0; s < seqs.Length; s++)
            {
                for (var h = 0; h < config.KvHeads; h++)
                {
                    var seq = resident ? seqs[0] : seqs[s];
                    ModelRunner.AttentionWork.Attend(
                        q + h * group * config.HeadDim, config.QDim, output + h * group * config.HeadDim, config.QDim, 1, group,
                        seq, resident ? 0 : layer, h, seq.Length, scale, scores, rows);
                }
            }
        }
    }
}
