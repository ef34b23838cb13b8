namespace WrinkleFree.Inference.Models;

/// <summary>One sequence's keys and values across all layers, held in pages of the shared <see cref="KvCache"/>.</summary>
public sealed class KvSequence : IDisposable
{
    private readonly KvCache _cache;
    private readonly List<float[]> _pages = [];

    internal KvSequence(KvCache cache, int maxLength)
    {
        _cache = cache;
        MaxLength = maxLength;
    }

    /// <summary>Positions written so far.</summary>
    public int Length { get; private set; }

    public int MaxLength { get; }

    /// <summary>Makes room for positions up to <paramref name="length"/> (exclusive).</summary>
    public void EnsureCapacity(int length)
    {
        if (length > MaxLength)
        {
            throw new ContextLengthExceededException(length, MaxLength);
        }

        while (_pages.Count * KvCache.PageTokens < length)
        {
            _pages.Add(_cache.RentPage());
        }
    }

    /// <summary>Marks positions [0, length) as written (call after the step that wrote them).</summary>
    public void Commit(int length) => Length = Math.Max(Length, length);

    /// <summary>Drops positions from <paramref name="length"/> on (e.g. to reuse a shared prompt prefix).</summary>
    public void Truncate(int length) => Length = Math.Min(Length, length);

    public Span<float> Key(int layer, int position) => Row(layer, 0, position);

    public Span<float> Value(int layer, int position) => Row(layer, 1, position);

    private Span<float> Row(int layer, int kOrV, int position)
    {
        var page = _pages[position / KvCache.PageTokens];
        return page.AsSpan(_cache.Offset(layer, kOrV, position % KvCache.PageTokens), _cache.KvDim);
    }

    /// <summary>
    /// Zeroes the pages this sequence holds. After a sequence produced NaN or infinity its pages must not go back dirty:
    /// attention weighs slots past a sequence's length by zero, and zero times NaN would poison the next owner.
    /// </summary>
    public void Scrub()
    {
        foreach (var p in _pages)
        {
            Array.Clear(p);
        }
    }

    public void Dispose()
    {
        foreach (var p in _pages)
        {
            _cache.ReturnPage(p);
        }

        _pages.Clear();
        Length = 0;
    }
}
