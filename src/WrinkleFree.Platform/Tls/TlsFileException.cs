namespace WrinkleFree.Platform.Tls;

/// <summary>A certificate or key file that cannot be used, with a message naming the file and what to do about it.</summary>
public sealed class TlsFileException : Exception
{
    public TlsFileException()
    {
    }

    public TlsFileException(string message)
        : base(message)
    {
    }

    public TlsFileException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The file at fault.</summary>
    public string? FilePath { get; init; }
}
