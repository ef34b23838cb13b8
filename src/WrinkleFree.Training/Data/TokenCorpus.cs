namespace WrinkleFree.Training.Data;

/// <summary>
/// Tokenized documents packed into two token streams, each document followed by eos (the separator packing keeps): the
/// training stream and a held-out stream. Every k-th document is held out (k = round(1 / fraction)), so the split is
/// deterministic and, on the genre-ordered Brown corpus, spread over every genre.
/// </summary>
public sealed class TokenCorpus
{
    private TokenCorpus(int[] train, int[] heldOut, int documents, int heldOutDocuments)
    {
        Train = train;
        HeldOut = heldOut;
        DocumentCount = documents;
        HeldOutDocumentCount = heldOutDocuments;
    }

    /// <summary>The training token stream.</summary>
    public int[] Train { get; }

    /// <summary>The held-out token stream (for perplexity).</summary>
    public int[] HeldOut { get; }

    /// <summary>Number of documents in both streams.</summary>
    public int DocumentCount { get; }

    /// <summary>Number of held-out documents.</summary>
    public int HeldOutDocumentCount { get; }

    /// <summary>Tokenizes <paramref name="documents"/> (in parallel; the result does not depend on the thread count).</summary>
    public static TokenCorpus Build(IReadOnlyList<string> documents, TrainingTokenizer tokenizer, double heldOutFraction = 0.05)
    {
        ArgumentNullException.ThrowIfNull(documents);
        ArgumentNullException.ThrowIfNull(tokenizer);
        if (heldOutFraction is < 0 or >= 0.5)
        {
            throw new ArgumentOutOfRangeException(nameof(heldOutFraction), heldOutFraction, "held-out fraction must be in [0, 0.5)");
        }

        var encoded = new int[documents.Count][];
        Parallel.For(0, documents.Count, i => encoded[i] = tokenizer.Encode(documents[i]));
        var stride = heldOutFraction > 0 ? Math.Max(2, (int)Math.Round(1 / heldOutFraction)) : int.MaxValue;
        var train = new List<int>();
        var heldOut = new List<int>();
        var heldOutDocuments = 0;
        for (var i = 0; i < encoded.Length; i++)
        {
            var isHeldOut = stride != int.MaxValue && documents.Count > 1 && i % stride == stride - 1;
            var target = isHeldOut ? heldOut : train;
            heldOutDocuments += isHeldOut ? 1 : 0;
            target.AddRange(encoded[i]);
            target.Add(tokenizer.EosId);
        }

        return new TokenCorpus(train.ToArray(), heldOut.ToArray(), documents.Count, heldOutDocuments);
    }
}
