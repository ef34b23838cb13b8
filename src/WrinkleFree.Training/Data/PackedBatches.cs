namespace WrinkleFree.Training.Data;

/// <summary>
/// Serves batches of packed sequences: the token stream (documents separated by eos) is cut into consecutive windows of
/// <c>SequenceLength</c> tokens and each epoch visits every window once in an order shuffled from (seed, epoch). The
/// order is a pure function of the seed and the epoch, so a saved <see cref="DataPosition"/> restores the stream exactly.
/// </summary>
public sealed class PackedBatches
{
    private readonly int[] _tokens;
    private int[] _order;

    /// <summary>Creates the reader at the start of epoch 0.</summary>
    public PackedBatches(int[] tokens, int sequenceLength, int batchSize, long seed, bool shuffle = true)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        ArgumentOutOfRangeException.ThrowIfLessThan(sequenceLength, 2);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        _tokens = tokens;
        SequenceLength = sequenceLength;
        BatchSize = batchSize;
        Seed = seed;
        Shuffle = shuffle;
        SequencesPerEpoch = tokens.Length / sequenceLength;
        if (SequencesPerEpoch < 1)
        {
            throw new DataSourceException($"the data holds {tokens.Length} tokens, fewer than one sequence of {sequenceLength}: use more data or a shorter --seq-len");
        }

        _order = Order(0);
    }

    /// <summary>Tokens per sequence.</summary>
    public int SequenceLength { get; }

    /// <summary>Sequences per batch.</summary>
    public int BatchSize { get; }

    /// <summary>The seed of the per-epoch shuffles.</summary>
    public long Seed { get; }

    /// <summary>Whether epochs are shuffled (false: stream order).</summary>
    public bool Shuffle { get; }

    /// <summary>Windows in one epoch.</summary>
    public long SequencesPerEpoch { get; }

    /// <summary>The next sequence to serve.</summary>
    public DataPosition Position { get; private set; } = DataPosition.Start;

    /// <summary>Epochs completed so far plus the fraction of the current one (data progress).</summary>
    public double EpochProgress => Position.Epoch + ((double)Position.SequenceInEpoch / SequencesPerEpoch);

    /// <summary>Moves to a saved position.</summary>
    public void Restore(DataPosition position)
    {
        if (position.Epoch < 0 || position.SequenceInEpoch < 0 || position.SequenceInEpoch > SequencesPerEpoch)
        {
            throw new ArgumentOutOfRangeException(nameof(position), position, $"outside the data (epoch >= 0, sequence 0..{SequencesPerEpoch})");
        }

        if (position.Epoch != Position.Epoch)
        {
            _order = Order(position.Epoch);
        }

        Position = position;
    }

    /// <summary>The next <see cref="BatchSize"/> sequences as token ids, row-major [batch, sequence], crossing epochs as needed.</summary>
    public long[] Next()
    {
        var batch = new long[BatchSize * SequenceLength];
        for (var b = 0; b < BatchSize; b++)
        {
            if (Position.SequenceInEpoch >= SequencesPerEpoch)
            {
                Restore(new DataPosition(Position.Epoch + 1, 0));
            }

            var start = (long)_order[Position.SequenceInEpoch] * SequenceLength;
            for (var t = 0; t < SequenceLength; t++)
            {
                batch[(b * SequenceLength) + t] = _tokens[start + t];
            }

            Position = Position with { SequenceInEpoch = Position.SequenceInEpoch + 1 };
        }

        return batch;
    }

    private int[] Order(int epoch)
    {
        var order = new int[SequencesPerEpoch];
        for (var i = 0; i < order.Length; i++)
        {
            order[i] = i;
        }

        if (Shuffle)
        {
            // Fisher-Yates with SplitMix64 seeded from (seed, epoch): stable across .NET versions, unlike System.Random.
            var state = unchecked((ulong)Seed * 0x9E3779B97F4A7C15UL) ^ (ulong)(epoch + 1);
            for (var i = order.Length - 1; i > 0; i--)
            {
                var j = (int)(SplitMix64(ref state) % (ulong)(i + 1));
                (order[i], order[j]) = (order[j], order[i]);
            }
        }

        return order;
    }

    private static ulong SplitMix64(ref ulong state)
    {
        var z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
