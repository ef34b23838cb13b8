using WrinkleFree.Inference.Models;
using WrinkleFree.Inference.Threading;

namespace WrinkleFree.Inference.Tests.Models;

/// <summary>Drives a <see cref="ModelRunner"/> directly: logits for every prompt position, greedy continuation.</summary>
internal static class ModelHarness
{
    public static float[][] Logits(Model model, int[] tokens, int threads = 2, int chunk = 64)
    {
        using var pool = new WorkerPool(threads);
        var runner = new ModelRunner(model, pool, chunk);
        var cache = new KvCache(model.Config, 1024);
        using var seq = cache.CreateSequence(1024);
        var vocab = model.Config.VocabSize;
        var rows = new float[tokens.Length][];
        var logits = new float[chunk * vocab];
        for (var start = 0; start < tokens.Length; start += chunk)
        {
            var n = Math.Min(chunk, tokens.Length - start);
            var step = new StepToken[n];
            for (var i = 0; i < n; i++)
            {
                step[i] = new StepToken(tokens[start + i], start + i, seq, true);
            }

            runner.Forward(step, logits);
            for (var i = 0; i < n; i++)
            {
                rows[start + i] = logits.AsSpan(i * vocab, vocab).ToArray();
            }
        }

        return rows;
    }

    public static int[] Greedy(Model model, int[] prompt, int count, int threads = 2)
    {
        using var pool = new WorkerPool(threads);
        var runner = new ModelRunner(model, pool, Math.Max(prompt.Length, 1));
        var cache = new KvCache(model.Config, 1024);
        using var seq = cache.CreateSequence(1024);
        var vocab = model.Config.VocabSize;
        var logits = new float[vocab];
        var step = new StepToken[prompt.Length];
        for (var i = 0; i < prompt.Length; i++)
        {
            step[i] = new StepToken(prompt[i], i, seq, i == prompt.Length - 1);
        }

        runner.Forward(step, logits);
        var result = new int[count];
        for (var k = 0; k < count; k++)
        {
            result[k] = LlamaCppAgreementTests.ArgMax(logits);
            runner.Forward([new StepToken(result[k], prompt.Length + k, seq, true)], logits);
        }

        return result;
    }
}
