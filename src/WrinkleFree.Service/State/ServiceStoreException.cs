namespace WrinkleFree.Service.State;

/// <summary>The state database cannot be used as asked: a missing or duplicate service or replica, or a schema too new.</summary>
public sealed class ServiceStoreException : Exception
{
    public ServiceStoreException(string message)
        : base(message)
    {
    }

    public ServiceStoreException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
