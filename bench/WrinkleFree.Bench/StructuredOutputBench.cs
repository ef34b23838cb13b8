using System.Diagnostics;
using System.Text.Json;
using WrinkleFree.Inference.Batching;
using WrinkleFree.Inference.Gguf;
using WrinkleFree.Inference.Models;
using WrinkleFree.Inference.Sampling;
using WrinkleFree.Inference.Sampling.Constraints;

namespace WrinkleFree.Bench;

/// <summary>
/// <c>structured</c>: decode tokens/s with a JSON-schema constraint vs without, same process, same engine, interleaved
/// runs. The model is a synthetic ternary model in the 700m shape whose tokenizer is a real one (GPT-2's 50257-token
/// vocabulary from tests/data/tokenizers), so the mask walks a real vocabulary trie. Reports the first constrained run
/// (cold: every grammar state's mask is computed) apart from the rest (warm: masks cached, the steady state of a server
/// that sees the same schema again).
/// </summary>
internal static class StructuredOutputBench
{
    private const string Schema = """
        {"type":"object","properties":{
          "name":{"type":"string","maxLength":24},
          "age":{"type":"integer"},
          "tags":{"type":"array","items":{"type":"string","maxLength":12},"maxItems":6},
          "address":{"type":"object","properties":{"city":{"type":"string"},"zip":{"type":"string","maxLength":10}},"required":["city"],"additionalProperties":false},
          "active":{"type":"boolean"}},
         "required":["name","age","tags","address","active"],"additionalProperties":false}
        """;

    public static int Run(string[] args)
    {
        var dir = BenchArgs.Arg(args, "--cache") ?? Path.Combine(Path.GetTempPath(), "wf-bench-structured");
        var threads = int.Parse(BenchArgs.Arg(args, "--threads") ?? Environment.ProcessorCount.ToString(System.Globalization.CultureInfo.InvariantCulture), System.Globalization.CultureInfo.InvariantCulture);
        var rounds = int.Parse(BenchArgs.Arg(args, "--rounds") ?? "5", System.Globalization.CultureInfo.InvariantCulture);
        var tokens = int.Parse(BenchArgs.Arg(args, "--tokens") ?? "64", System.Globalization.CultureInfo.InvariantCulture);
        var shapeName = BenchArgs.Arg(args, "--shape") ?? "700m";
        var vocabFile = BenchArgs.Arg(args, "--vocab") ?? Path.Combine(Benchmarks.BenchRepository.Root() ?? Directory.GetCurrentDirectory(), "tests", "data", "tokenizers", "ggml-vocab-gpt-2.gguf");

        var path = EnsureModel(dir, SyntheticShape.Find(shapeName), vocabFile);
        using var model = Model.Load(path);
        using var engine = new InferenceEngine(model, new EngineOptions { Threads = threads, MaxSequences = 1 });
        using var schemaDoc = JsonDocument.Parse(Schema);
        var grammar = JsonSchemaConstraint.Compile(schemaDoc.RootElement);
        var prompt = model.Tokenizer.Encode("Return the user record as JSON:");
        Console.WriteLine($"model {model.Name}: vocab {model.Config.VocabSize}, {threads} threads, {tokens} tokens per run, {rounds} rounds");

        // A plain run first: the cold constrained run below should pay for new grammar states, not for JIT and first page-ins.
        _ = Decode(engine, prompt, tokens, null, seed: 999);
        var cold = Decode(engine, prompt, tokens, grammar, seed: 1000);
        var coldConstraintSeconds = TimedConstraint.Seconds;
        TimedConstraint.Seconds = 0;
        TimedConstraint.PerToken.Clear();
        Console.WriteLine($"constrained cold (first run, {grammar.MasksComputed} masks computed): {cold.TokensPerSecond:F2} tok/s over {cold.Tokens} tokens, " +
            $"constraint work {coldConstraintSeconds * 1e3:F1} ms in all ({coldConstraintSeconds * 1e3 / grammar.MasksComputed:F2} ms per mask computed)");

        double plainTokens = 0, plainSeconds = 0, constrainedTokens = 0, constrainedSeconds = 0;
        for (var round = 0; round < rounds; round++)
        {
            // Interleaved, and the order alternates, so drift on a shared machine hits both sides alike.
            var first = round % 2 == 0;
            var a = first ? Decode(engine, prompt, tokens, null, (ulong)round) : Decode(engine, prompt, tokens, grammar, (ulong)round);
            var b = first ? Decode(engine, prompt, tokens, grammar, (ulong)round) : Decode(engine, prompt, tokens, null, (ulong)round);
            var (plain, constrained) = first ? (a, b) : (b, a);
            plainTokens += plain.Tokens;
            plainSeconds += plain.Seconds;
            constrainedTokens += constrained.Tokens;
            constrainedSeconds += constrained.Seconds;
            Console.WriteLine($"round {round}: plain {plain.TokensPerSecond:F2} tok/s, constrained {constrained.TokensPerSecond:F2} tok/s ({constrained.Tokens} tokens, {grammar.MasksComputed} masks so far)");
        }

        var perToken = TimedConstraint.PerToken.Order().ToArray();
        Console.WriteLine($"constraint work (Apply + Accept) per token on the engine thread, warm rounds: median {perToken[perToken.Length / 2] * 1e6:F1} us, " +
            $"p90 {perToken[perToken.Length * 9 / 10] * 1e6:F1} us, mean {perToken.Average() * 1e6:F1} us (a new grammar state costs one trie walk); " +
            $"{TimedConstraint.Seconds / constrainedSeconds * 100:F2} % of constrained decode time");
        var plainRate = plainTokens / plainSeconds;
        var constrainedRate = constrainedTokens / constrainedSeconds;
        Console.WriteLine($"decode tok/s: plain {plainRate:F2}, constrained (warm) {constrainedRate:F2}, ratio {constrainedRate / plainRate:F3}; constrained cold {cold.TokensPerSecond:F2} (ratio {cold.TokensPerSecond / plainRate:F3})");
        return 0;
    }

    /// <summary>Decode speed: tokens after the first over the time after the first (prefill and TTFT excluded).</summary>
    private static (int Tokens, double Seconds, double TokensPerSecond) Decode(InferenceEngine engine, int[] prompt, int maxTokens, Grammar? grammar, ulong seed)
    {
        var request = new GenerationRequest
        {
            PromptTokens = prompt,
            MaxTokens = maxTokens,
            IgnoreEos = grammar is null,
            Sampling = new SamplingOptions { Temperature = 0.8f, Seed = seed },
            Constraint = grammar is null ? null : t => new TimedConstraint(grammar.CreateConstraint(t)),
        };
        var count = 0;
        long start = 0;
        foreach (var update in Sync(engine.GenerateAsync(request)))
        {
            if (count++ == 0)
            {
                start = Stopwatch.GetTimestamp();
            }
        }

        var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        return (count - 1, seconds, (count - 1) / seconds);
    }

    private static IEnumerable<GenerationUpdate> Sync(IAsyncEnumerable<GenerationUpdate> updates)
    {
        var e = updates.GetAsyncEnumerator();
        try
        {
            while (e.MoveNextAsync().AsTask().GetAwaiter().GetResult())
            {
                yield return e.Current;
            }
        }
        finally
        {
            e.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    /// <summary>The synthetic model of <paramref name="shape"/>, re-written with the real vocabulary's tokenizer metadata.</summary>
    private static string EnsureModel(string dir, SyntheticShape shape, string vocabFile)
    {
        Directory.CreateDirectory(dir);
        using var vocab = GgufFile.Open(vocabFile);
        var vocabSize = vocab.Metadata.GetArray<string>("tokenizer.ggml.tokens")!.Length;
        var sized = shape with { Name = $"{shape.Name}-v{vocabSize}", VocabSize = vocabSize };
        var path = Path.Combine(dir, $"synthetic-{sized.Name}-{Path.GetFileNameWithoutExtension(vocabFile)}.gguf");
        if (File.Exists(path))
        {
            return path;
        }

        var raw = Path.Combine(dir, $"synthetic-{sized.Name}-raw.gguf");
        SyntheticModel.Write(raw, sized, GgmlType.TQ2_0, seed: 1);
        using (var synthetic = GgufFile.Open(raw))
        {
            var w = new GgufWriter();
            foreach (var key in synthetic.Metadata.Keys)
            {
                if (!key.StartsWith("tokenizer.", StringComparison.Ordinal))
                {
                    w.Add(key, synthetic.Metadata[key]);
                }
            }

            foreach (var key in vocab.Metadata.Keys)
            {
                if (key.StartsWith("tokenizer.", StringComparison.Ordinal))
                {
                    w.Add(key, vocab.Metadata[key]);
                }
            }

            foreach (var t in synthetic.Tensors)
            {
                w.AddTensor(t.Name, t.Type, t.Shape, synthetic.GetSpan(t).ToArray());
            }

            w.WriteTo(path);
        }

        File.Delete(raw);
        return path;
    }

    /// <summary>Times the constraint's own work (masking and advancing) on the engine thread.</summary>
    private sealed class TimedConstraint(ITokenConstraint inner) : ITokenConstraint
    {
        // The engine calls constraints from its one loop thread, and one sequence runs at a time here.
        public static double Seconds { get; set; }

        /// <summary>Apply + Accept time of each token.</summary>
        public static List<double> PerToken { get; } = [];

        private double _pending;

        public bool IsComplete => inner.IsComplete;

        public void Apply(Span<float> logits)
        {
            var start = Stopwatch.GetTimestamp();
            inner.Apply(logits);
            _pending = Stopwatch.GetElapsedTime(start).TotalSeconds;
        }

        public void Accept(int tokenId)
        {
            var start = Stopwatch.GetTimestamp();
            inner.Accept(tokenId);
            var total = _pending + Stopwatch.GetElapsedTime(start).TotalSeconds;
            Seconds += total;
            PerToken.Add(total);
        }
    }
}
