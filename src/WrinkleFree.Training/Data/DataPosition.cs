namespace WrinkleFree.Training.Data;

/// <summary>Where a <see cref="PackedBatches"/> reader is: the epoch and how many sequences of it were already served.</summary>
public readonly record struct DataPosition(int Epoch, long SequenceInEpoch)
{
    /// <summary>The start of the first epoch.</summary>
    public static DataPosition Start => new(0, 0);
}
