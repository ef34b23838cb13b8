namespace WrinkleFree.Fuzz.Targets;

/// <summary>
/// One parser under fuzzing. <see cref="Execute"/> feeds it bytes and returns whether they were accepted; the parser's own
/// deliberate errors (its format or spec exception) are caught inside and count as a clean rejection. Any exception that
/// escapes is a crash: a bug that in production is a 500, a dead engine thread or a dead process.
/// </summary>
internal abstract class FuzzTarget
{
    /// <summary>The name on the command line and the corpus folder's name.</summary>
    public abstract string Name { get; }

    /// <summary>Tokens of the input language the mutator splices in (keywords, punctuation, magic numbers).</summary>
    public virtual IReadOnlyList<byte[]> Dictionary => [];

    /// <summary>Largest input the mutator makes for this target.</summary>
    public virtual int MaxInputBytes => 16 * 1024;

    /// <summary>Parses <paramref name="data"/>: true when accepted, false when rejected cleanly; throws on a crash.</summary>
    public abstract bool Execute(ReadOnlySpan<byte> data);

    protected static IReadOnlyList<byte[]> Tokens(params string[] tokens) =>
        tokens.Select(t => System.Text.Encoding.UTF8.GetBytes(t)).ToArray();
}
