namespace WrinkleFree.Jinja;

/// <summary>
/// A template could not be parsed or rendered. Every exception <see cref="JinjaTemplate.Parse"/> and
/// <see cref="JinjaTemplate.Render"/> throw is one of these, with <see cref="Line"/> and <see cref="Column"/> (1-based)
/// pointing at the template construct at fault and <see cref="Detail"/> the problem without the position.
/// </summary>
/// <remarks>
/// A <see cref="JinjaFunction"/> fails the render by throwing one made with <see cref="JinjaException(string)"/>; the
/// renderer then rethrows it with the position of the call in the template.
/// </remarks>
public sealed class JinjaException : Exception
{
    /// <summary>
    /// Creates an exception without a position, for a <see cref="JinjaFunction"/> to throw: <see cref="Line"/> and
    /// <see cref="Column"/> are 0 until the renderer reports it at the call.
    /// </summary>
    public JinjaException(string detail)
        : base(detail)
    {
        Detail = detail;
    }

    internal JinjaException(string detail, int line, int column, Exception? innerException = null)
        : base($"{detail} (template line {line}, column {column})", innerException)
    {
        Detail = detail;
        Line = line;
        Column = column;
    }

    /// <summary>1-based line of the template construct at fault; 0 only before the renderer has positioned it.</summary>
    public int Line { get; }

    /// <summary>1-based column of the template construct at fault; 0 only before the renderer has positioned it.</summary>
    public int Column { get; }

    /// <summary>The problem (e.g. <c>'x' is undefined</c>, or the message a function failed with), without the position.</summary>
    public string Detail { get; }

    internal bool HasPosition => Line > 0;
}
