using System.Collections.Concurrent;
using System.Text;

namespace WrinkleFree.Inference.Tokenization;

/// <summary>
/// A small deterministic byte-level BPE trainer, so synthetic models get a real GPT-2-style vocabulary that llama.cpp and
/// <see cref="Tokenizer"/> both load.
/// </summary>
public static class BpeVocabularyBuilder
{
    /// <summary>Control tokens appended by <see cref="DefaultSmallVocabulary"/>, in this order.</summary>
    public static IReadOnlyList<string> DefaultSpecialTokens { get; } =
    [
        "<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>", "<|start_header_id|>", "<|end_header_id|>", "<|im_start|>", "<|im_end|>",
    ];

    private static readonly ConcurrentDictionary<int, (string[] Tokens, string[] Merges)> DefaultCache = new();

    /// <summary>
    /// Trains on <paramref name="corpus"/> until the vocabulary holds <paramref name="vocabSize"/> tokens or no pair is
    /// left: the 256 byte tokens (id = byte value, in GPT-2 byte-to-unicode form), then one token per merge, in merge order.
    /// Pairs are counted over GPT-2 pre-tokenized words; ties go to the ordinally smaller pair, so the result is deterministic.
    /// </summary>
    public static (string[] Tokens, string[] Merges) Train(string corpus, int vocabSize)
    {
        ArgumentNullException.ThrowIfNull(corpus);
        ArgumentOutOfRangeException.ThrowIfLessThan(vocabSize, 256);

        var tokens = new List<string>(vocabSize);
        var known = new HashSet<string>(StringComparer.Ordinal);
        for (var b = 0; b < 256; b++)
        {
            tokens.Add(ByteLevel.ByteToString[b]);
            known.Add(ByteLevel.ByteToString[b]);
        }

        var words = CountWords(corpus);
        var merges = new List<string>();
        while (tokens.Count < vocabSize && BestPair(words) is { } best)
        {
            var merged = best.Left + best.Right;
            merges.Add(best.Left + " " + best.Right);
            if (known.Add(merged))
            {
                tokens.Add(merged);
            }

            foreach (var word in words)
            {
                Merge(word.Symbols, best.Left, best.Right, merged);
            }
        }

        return (tokens.ToArray(), merges.ToArray());
    }

    /// <summary>
    /// Exactly <paramref name="vocabSize"/> tokens trained on the embedded English corpus, ending with
    /// <see cref="DefaultSpecialTokens"/> (padded before them with "&lt;|reserved_N|&gt;" tokens if the corpus runs out).
    /// Use <see cref="TokenizerMetadata.WriteDefaultSmallVocabulary"/> to write it with token types and ids.
    /// </summary>
    public static (string[] Tokens, string[] Merges) DefaultSmallVocabulary(int vocabSize = 1024)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(vocabSize, 256 + DefaultSpecialTokens.Count);
        var (tokens, merges) = DefaultCache.GetOrAdd(vocabSize, static size =>
        {
            var (trained, trainedMerges) = Train(SmallCorpus.Text, size - DefaultSpecialTokens.Count);
            var all = new List<string>(trained);
            for (var i = 0; all.Count < size - DefaultSpecialTokens.Count; i++)
            {
                all.Add($"<|reserved_{i}|>");
            }

            all.AddRange(DefaultSpecialTokens);
            return (all.ToArray(), trainedMerges);
        });
        return ((string[])tokens.Clone(), (string[])merges.Clone());
    }

    private static List<Word> CountWords(string corpus)
    {
        var ranges = new List<Range>();
        PreTokenizer.ForName("gpt-2")!.Split(corpus, ranges);
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var range in ranges)
        {
            var mapped = ByteLevel.Encode(Encoding.UTF8.GetBytes(corpus[range]));
            counts[mapped] = counts.GetValueOrDefault(mapped) + 1;
        }

        // Sorted so that iteration order (and with it every tie) never depends on hashing.
        return counts.OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => new Word(kv.Key.Select(c => c.ToString()).ToList(), kv.Value))
            .ToList();
    }

    private static (string Left, string Right)? BestPair(List<Word> words)
    {
        var counts = new Dictionary<(string, string), int>();
        foreach (var word in words)
        {
            for (var i = 0; i + 1 < word.Symbols.Count; i++)
            {
                var pair = (word.Symbols[i], word.Symbols[i + 1]);
                counts[pair] = counts.GetValueOrDefault(pair) + word.Count;
            }
        }

        (string Left, string Right)? best = null;
        var bestCount = 0;
        foreach (var (pair, count) in counts)
        {
            if (count > bestCount || (count == bestCount && best is { } b && Compare(pair, b) < 0))
            {
                best = pair;
                bestCount = count;
            }
        }

        return best;
    }

    private static int Compare((string Left, string Right) x, (string Left, string Right) y)
    {
        var c = string.CompareOrdinal(x.Left, y.Left);
        return c != 0 ? c : string.CompareOrdinal(x.Right, y.Right);
    }

    private static void Merge(List<string> symbols, string left, string right, string merged)
    {
        for (var i = 0; i + 1 < symbols.Count; i++)
        {
            if (symbols[i] == left && symbols[i + 1] == right)
            {
                symbols[i] = merged;
                symbols.RemoveAt(i + 1);
            }
        }
    }

    private sealed record Word(List<string> Symbols, int Count);
}
