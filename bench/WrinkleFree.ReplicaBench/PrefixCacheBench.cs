using WrinkleFree.Inference.Benchmarking;
using System.Diagnostics;
using System.Globalization;
using WrinkleFree.Inference.Batching;
using WrinkleFree.Inference.Gguf;
using WrinkleFree.Inference.Models;
using WrinkleFree.Inference.Sampling;

namespace WrinkleFree.ReplicaBench;

/// <summary>
/// Engine prefix cache: a chat workload (one system prompt shared by every conversation, several turns each repeating the
/// whole history) run on two engines over the same model, cache on and cache off, in alternating rounds of the same run.
/// Reports TTFT and effective prefill throughput (prompt tokens per second of time to first token), and checks that both
/// engines generated the same greedy tokens.
/// </summary>
internal static class PrefixCacheBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var shape = BenchArgs.Arg(args, "--shape", "tiny");
        var threads = BenchArgs.Int(args, "--threads", Environment.ProcessorCount);
        var conversations = BenchArgs.Int(args, "--conversations", 8);
        var turns = BenchArgs.Int(args, "--turns", 3);
        var systemTokens = BenchArgs.Int(args, "--system-tokens", 256);
        var userTokens = BenchArgs.Int(args, "--user-tokens", 32);
        var replyTokens = BenchArgs.Int(args, "--reply-tokens", 16);
        var rounds = BenchArgs.Int(args, "--rounds", 3);

        var path = EngineBenchmark.EnsureSyntheticModel(Path.GetTempPath(), SyntheticShape.Find(shape), GgmlType.TQ2_0);

        using var model = Model.Load(path);
        var options = new EngineOptions { Threads = threads, MaxSequences = 4, MaxBatchTokens = 256, PrefillChunk = 128 };
        using var on = new InferenceEngine(model, options);
        using var off = new InferenceEngine(model, options with { PrefixCache = false });
        var vocab = Math.Min(model.Config.VocabSize, 30000);
        var system = Tokens(systemTokens, 1, vocab);
        var needed = systemTokens + turns * (userTokens + replyTokens);
        if (needed >= on.ContextLimit)
        {
            Console.Error.WriteLine($"error: {needed} tokens per conversation do not fit the context of {on.ContextLimit}");
            return 2;
        }

        // Warm-up: JIT and tiered compilation of both paths (a prompt unrelated to the workload).
        await Conversation(on, Tokens(100, 99, vocab), [Tokens(8, 98, vocab)], 4);
        await Conversation(off, Tokens(100, 99, vocab), [Tokens(8, 98, vocab)], 4);

        var results = new Dictionary<bool, Stats> { [true] = new(), [false] = new() };
        var identical = true;
        for (var round = 0; round < rounds; round++)
        {
            // New conversations each round, the same system prompt throughout: the steady state of a chat service.
            var users = Enumerable.Range(0, conversations)
                .Select(c => Enumerable.Range(0, turns).Select(t => Tokens(userTokens, 1000 * round + 10 * c + t + 2, vocab)).ToArray())
                .ToArray();
            foreach (var cache in new[] { true, false })
            {
                var engine = cache ? on : off;
                var before = (engine.PromptTokensProcessed, engine.CachedPromptTokens);
                var stats = results[cache];
                foreach (var turnsOfConversation in users)
                {
                    var (ttfts, prompts, replies) = await Conversation(engine, system, turnsOfConversation, replyTokens);
                    stats.Ttft.AddRange(ttfts);
                    stats.PromptTokens += prompts;
                    stats.Replies.Add(replies);
                }

                stats.Prefilled += engine.PromptTokensProcessed - before.PromptTokensProcessed;
                stats.Cached += engine.CachedPromptTokens - before.CachedPromptTokens;
            }
        }

        for (var i = 0; i < results[true].Replies.Count; i++)
        {
            identical &= results[true].Replies[i].SequenceEqual(results[false].Replies[i]);
        }

        Console.WriteLine($"# Prefix cache, engine only: model {shape}, {threads} threads, {rounds} rounds x {conversations} conversations x {turns} turns");
        Console.WriteLine($"# system prompt {systemTokens} tokens shared by all, {userTokens} user tokens and {replyTokens} reply tokens per turn (greedy); {Environment.ProcessorCount} logical CPUs");
        Console.WriteLine();
        Console.WriteLine("| cache | requests | prompt tokens | prefilled | from cache | TTFT p50 ms | TTFT p99 ms | TTFT mean ms | prompt tok/s |");
        Console.WriteLine("|---|--:|--:|--:|--:|--:|--:|--:|--:|");
        foreach (var cache in new[] { true, false })
        {
            var s = results[cache];
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {(cache ? "on" : "off")} | {s.Ttft.Count} | {s.PromptTokens} | {s.Prefilled} | {s.Cached} ({100.0 * s.Cached / s.PromptTokens:F0}%) | {s.Percentile(50):F2} | {s.Percentile(99):F2} | {s.Ttft.Average() * 1000:F2} | {s.PromptTokens / s.Ttft.Sum():F0} |"));
        }

        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"TTFT p50 off/on: {results[false].Percentile(50) / results[true].Percentile(50):F2}x; prompt tok/s on/off: {results[false].Ttft.Sum() / results[true].Ttft.Sum():F2}x; greedy outputs identical: {(identical ? "yes" : "NO")}"));
        return identical ? 0 : 1;
    }

    /// <summary>One conversation: each turn sends the whole history and appends the reply to it.</summary>
    private static async Task<(List<double> Ttft, long PromptTokens, List<int> Replies)> Conversation(InferenceEngine engine, int[] system, int[][] users, int replyTokens)
    {
        var history = new List<int>(system);
        var ttft = new List<double>();
        var replies = new List<int>();
        long prompts = 0;
        foreach (var user in users)
        {
            history.AddRange(user);
            var request = new GenerationRequest { PromptTokens = [.. history], MaxTokens = replyTokens, IgnoreEos = true, Sampling = new SamplingOptions { Temperature = 0 } };
            prompts += request.PromptTokens.Length;
            var start = Stopwatch.GetTimestamp();
            var first = true;
            await foreach (var u in engine.GenerateAsync(request))
            {
                if (first)
                {
                    ttft.Add(Stopwatch.GetElapsedTime(start).TotalSeconds);
                    first = false;
                }

                if (u.TokenId >= 0)
                {
                    history.Add(u.TokenId);
                    replies.Add(u.TokenId);
                }
            }
        }

        return (ttft, prompts, replies);
    }

    private static int[] Tokens(int count, int seed, int vocab)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, count).Select(_ => random.Next(16, vocab))];
    }

    private sealed class Stats
    {
        public List<double> Ttft { get; } = [];

        public List<List<int>> Replies { get; } = [];

        public long PromptTokens { get; set; }

        public long Prefilled { get; set; }

        public long Cached { get; set; }

        public double Percentile(double p) => BenchArgs.PercentileMs(Ttft, p);
    }
}
