using TorchSharp;
using WrinkleFree.Inference.Gguf;
using WrinkleFree.Inference.Models;
using WrinkleFree.Inference.Tensors.Formats;
using WrinkleFree.Inference.Threading;
using WrinkleFree.Training.Model;

namespace WrinkleFree.Training.Tests.Export;

/// <summary>Runs exported GGUFs through the real engine and prepares TorchSharp models whose values the formats can hold.</summary>
internal static class EngineHarness
{
    /// <summary>Logits [T, V] of the engine for one prompt, every position requested, in one batched step, with a float32 KV cache.</summary>
    public static float[,] Logits(string ggufPath, int[] tokens)
    {
        using var model = WrinkleFree.Inference.Models.Model.Load(ggufPath);
        using var pool = new WorkerPool(1);
        var runner = new ModelRunner(model, pool, tokens.Length);
        // A float32 cache: these tests check the exporter to float rounding against torch, which keeps keys and values in
        // float32; the engine's default half cache would add its own rounding (about 2e-4 of the logit range here).
        var cache = new KvCache(model.Config, 256, precision: KvPrecision.F32);
        using var sequence = cache.CreateSequence(tokens.Length);
        var steps = tokens.Select((t, i) => new StepToken(t, i, sequence, NeedLogits: true)).ToArray();
        var vocab = model.Config.VocabSize;
        var flat = new float[tokens.Length * vocab];
        runner.Forward(steps, flat);
        var result = new float[tokens.Length, vocab];
        Buffer.BlockCopy(flat, 0, result, 0, flat.Length * sizeof(float));
        return result;
    }

    /// <summary>Re-draws every weight at a realistic scale: linear rows ~ 1/√fan-in, embeddings ~ 1, norms near 1.</summary>
    public static void Randomize(CausalLanguageModel model, int seed)
    {
        // A private generator: tests in other classes run in parallel and draw from torch's global one.
        using var generator = new torch.Generator((ulong)seed);
        using var _ = torch.no_grad();
        foreach (var (name, p) in model.NamedParameters())
        {
            if (name.EndsWith("norm.weight", StringComparison.Ordinal))
            {
                p.copy_(1 + 0.1 * torch.randn(p.shape, generator: generator));
            }
            else if (name.Contains("embed_tokens", StringComparison.Ordinal) || name.StartsWith("lm_head", StringComparison.Ordinal))
            {
                p.copy_(torch.randn(p.shape, generator: generator));
            }
            else
            {
                p.copy_(torch.randn(p.shape, generator: generator) / Math.Sqrt(p.shape[1]));
            }
        }
    }

    /// <summary>Replaces a weight by its <paramref name="type"/> round trip, so torch uses exactly the values the GGUF stores.</summary>
    public static void RoundTrip(CausalLanguageModel model, string name, GgmlType type)
    {
        var p = model.NamedParameters()[name];
        var values = p.detach().data<float>().ToArray();
        var bytes = new byte[GgmlTypeInfo.Of(type)!.Value.ByteSize(values.Length)];
        TensorCodec.Quantize(type, values, bytes);
        TensorCodec.Dequantize(type, bytes, values);
        using var _ = torch.no_grad();
        p.copy_(torch.tensor(values, p.shape));
    }

    public static float[,] TorchLogits(CausalLanguageModel model, int[] tokens)
    {
        using var _ = torch.no_grad();
        var logits = model.forward(torch.tensor(tokens.Select(t => (long)t).ToArray(), [1, tokens.Length]))[0];
        var flat = logits.contiguous().data<float>().ToArray();
        var result = new float[tokens.Length, logits.shape[1]];
        Buffer.BlockCopy(flat, 0, result, 0, flat.Length * sizeof(float));
        return result;
    }

    /// <summary>Max |a − b| over all logits, the logits' max |a| and how many positions agree on the arg-max.</summary>
    public static (float MaxDiff, float Scale, int ArgmaxAgree) Compare(float[,] a, float[,] b)
    {
        float maxDiff = 0, scale = 0;
        var agree = 0;
        for (var t = 0; t < a.GetLength(0); t++)
        {
            int ia = 0, ib = 0;
            for (var v = 0; v < a.GetLength(1); v++)
            {
                maxDiff = MathF.Max(maxDiff, MathF.Abs(a[t, v] - b[t, v]));
                scale = MathF.Max(scale, MathF.Abs(a[t, v]));
                ia = a[t, v] > a[t, ia] ? v : ia;
                ib = b[t, v] > b[t, ib] ? v : ib;
            }

            agree += ia == ib ? 1 : 0;
        }

        return (maxDiff, scale, agree);
    }
}
