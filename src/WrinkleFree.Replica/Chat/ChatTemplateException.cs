namespace WrinkleFree.Replica.Chat;

/// <summary>
/// A chat template could not be parsed or rendered; <see cref="Line"/> and <see cref="Column"/> (1-based) point at the
/// template construct at fault, and <see cref="Detail"/> is the problem without the position.
/// </summary>
public sealed class ChatTemplateException : Exception
{
    /// <summary>Creates an exception for a problem at a 1-based line and column of the template source.</summary>
    public ChatTemplateException(string detail, int line, int column)
        : base($"{detail} (chat template line {line}, column {column})")
    {
        Detail = detail;
        Line = line;
        Column = column;
    }

    /// <summary>1-based line of the template construct at fault.</summary>
    public int Line { get; }

    /// <summary>1-based column of the template construct at fault.</summary>
    public int Column { get; }

    /// <summary>The problem, e.g. the message passed to <c>raise_exception</c>, without the position.</summary>
    public string Detail { get; }
}
