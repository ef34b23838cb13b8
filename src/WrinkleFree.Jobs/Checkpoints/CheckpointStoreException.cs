namespace WrinkleFree.Jobs.Checkpoints;

/// <summary>A checkpoint could not be saved, listed or restored; the message says where and what to do.</summary>
public sealed class CheckpointStoreException : Exception
{
    /// <summary>Creates the error with its message and the underlying cause, if any.</summary>
    public CheckpointStoreException(string message, Exception? inner = null)
        : base(message, inner)
    {
    }
}
