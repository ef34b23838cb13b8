namespace WrinkleFree.Training.Data;

/// <summary>
/// The training data cannot be used as configured (missing file, corpus not installed, malformed line): a configuration
/// error that retrying will not fix. The message names what was wrong and what to do.
/// </summary>
public sealed class DataSourceException : Exception
{
    /// <summary>Creates the exception with a message naming the problem and the fix.</summary>
    public DataSourceException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the underlying cause.</summary>
    public DataSourceException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
