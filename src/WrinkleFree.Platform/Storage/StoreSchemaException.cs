namespace WrinkleFree.Platform.Storage;

/// <summary>A store file cannot be opened by this wf: its schema is newer than the migrations this build knows.</summary>
public sealed class StoreSchemaException : Exception
{
    public StoreSchemaException(string message)
        : base(message)
    {
    }

    public StoreSchemaException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
