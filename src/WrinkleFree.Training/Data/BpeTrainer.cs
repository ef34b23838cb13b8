using System.Text;
using System.Text.RegularExpressions;

namespace WrinkleFree.Training.Data;

/// <summary>
/// Byte-level BPE training over GPT-2 pre-tokenized words, incremental: pair counts are kept up to date and only the words
/// containing the merged pair are rewritten, so Brown-sized corpora train in seconds (rebuilding every count per merge, as
/// Inference's small builder does, takes minutes there). Ties go to the ordinally smaller pair, so the result is
/// deterministic; merges follow GPT-2's byte-to-unicode mapping so Inference's tokenizer loads them unchanged.
/// </summary>
internal static partial class BpeTrainer
{
    /// <summary>GPT-2's byte-to-character table: printable bytes map to themselves, the rest to 256 + n.</summary>
    public static readonly string[] ByteToString = BuildByteTable();

    public static (string[] Tokens, string[] Merges) Train(IEnumerable<string> documents, int vocabSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(vocabSize, 256);
        var symbols = new List<string>(ByteToString);
        var (words, counts) = CountWords(documents);

        var pairCounts = new Dictionary<long, long>();
        var pairWords = new Dictionary<long, HashSet<int>>();
        for (var w = 0; w < words.Count; w++)
        {
            AddPairs(words[w], w, counts[w], +1, pairCounts, pairWords);
        }

        var merges = new List<string>();
        var tokens = new List<string>(ByteToString);
        var known = new HashSet<string>(tokens, StringComparer.Ordinal);
        while (tokens.Count < vocabSize)
        {
            var best = -1L;
            var bestCount = 0L;
            foreach (var (pair, count) in pairCounts)
            {
                if (count > bestCount || (count == bestCount && count > 0 && ComparePairs(symbols, pair, best) < 0))
                {
                    best = pair;
                    bestCount = count;
                }
            }

            if (bestCount <= 0)
            {
                break;
            }

            var left = (int)(best >> 32);
            var right = (int)(best & 0xFFFFFFFF);
            var mergedText = symbols[left] + symbols[right];
            var merged = symbols.Count;
            symbols.Add(mergedText);
            merges.Add(symbols[left] + " " + symbols[right]);
            if (known.Add(mergedText))
            {
                tokens.Add(mergedText);
            }

            foreach (var w in pairWords[best].ToArray())
            {
                var word = words[w];
                AddPairs(word, w, counts[w], -1, pairCounts, pairWords);
                words[w] = Merge(word, left, right, merged);
                AddPairs(words[w], w, counts[w], +1, pairCounts, pairWords);
            }

            pairWords.Remove(best);
            pairCounts.Remove(best);
        }

        return (tokens.ToArray(), merges.ToArray());
    }

    private static (List<int[]> Words, List<long> Counts) CountWords(IEnumerable<string> documents)
    {
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var document in documents)
        {
            foreach (Match match in Gpt2Words().Matches(document))
            {
                counts[match.Value] = counts.GetValueOrDefault(match.Value) + 1;
            }
        }

        // Sorted so that iteration order never depends on hashing.
        var words = new List<int[]>(counts.Count);
        var wordCounts = new List<long>(counts.Count);
        foreach (var (word, count) in counts.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            var bytes = Encoding.UTF8.GetBytes(word);
            words.Add(Array.ConvertAll(bytes, b => (int)b));
            wordCounts.Add(count);
        }

        return (words, wordCounts);
    }

    private static void AddPairs(int[] word, int index, long count, int sign, Dictionary<long, long> pairCounts, Dictionary<long, HashSet<int>> pairWords)
    {
        for (var i = 0; i + 1 < word.Length; i++)
        {
            var pair = ((long)word[i] << 32) | (uint)word[i + 1];
            var updated = pairCounts.GetValueOrDefault(pair) + (sign * count);
            if (updated == 0)
            {
                pairCounts.Remove(pair);
            }
            else
            {
                pairCounts[pair] = updated;
            }

            if (sign > 0)
            {
                if (!pairWords.TryGetValue(pair, out var set))
                {
                    pairWords[pair] = set = [];
                }

                set.Add(index);
            }
        }
    }

    private static int[] Merge(int[] word, int left, int right, int merged)
    {
        var output = new List<int>(word.Length);
        for (var i = 0; i < word.Length; i++)
        {
            if (i + 1 < word.Length && word[i] == left && word[i + 1] == right)
            {
                output.Add(merged);
                i++;
            }
            else
            {
                output.Add(word[i]);
            }
        }

        return output.Count == word.Length ? word : output.ToArray();
    }

    private static int ComparePairs(List<string> symbols, long x, long y)
    {
        if (y < 0)
        {
            return -1;
        }

        var c = string.CompareOrdinal(symbols[(int)(x >> 32)], symbols[(int)(y >> 32)]);
        return c != 0 ? c : string.CompareOrdinal(symbols[(int)(x & 0xFFFFFFFF)], symbols[(int)(y & 0xFFFFFFFF)]);
    }

    private static string[] BuildByteTable()
    {
        var table = new string[256];
        var next = 256;
        for (var b = 0; b < 256; b++)
        {
            var printable = b is >= 33 and <= 126 or >= 161 and <= 172 or >= 174 and <= 255;
            table[b] = ((char)(printable ? b : next++)).ToString();
        }

        return table;
    }

    // GPT-2's pre-tokenizer pattern; merges never cross these word boundaries.
    [GeneratedRegex(@"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+")]
    private static partial Regex Gpt2Words();
}
