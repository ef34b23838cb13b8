namespace WrinkleFree.Inference.Models;

/// <summary>
/// Paged key/value storage shared by all sequences of one runner. A page holds <see cref="PageTokens"/> positions of every
/// layer's K and V; sequences take pages from a free list as they grow and return them when they finish, so memory follows
/// the tokens actually held and steady-state decoding allocates nothing.
/// </summary>
public sealed class KvCache
{
    public const int PageTokens = 64;

    private readonly Stack<float[]> _free = new();
    private readonly int _layers;
    private readonly int _kvDim;
    private readonly long _maxPages;
    private long _pagesInUse;

    public KvCache(ModelConfig config, long maxTokens)
    {
        _layers = config.Layers;
        _kvDim = config.KvDim;
        _maxPages = Math.Max(1, (maxTokens + PageTokens - 1) / PageTokens);
    }

    /// <summary>Floats one page holds: layers x (K, V) x PageTokens x kvDim.</summary>
    public int PageFloats => _layers * 2 * PageTokens * _kvDim;

    public long PagesInUse => Interlocked.Read(ref _pagesInUse);

    public long MaxTokens => _maxPages * PageTokens;

    /// <summary>Bytes currently held by sequences.</summary>
    public long BytesInUse => PagesInUse * PageFloats * sizeof(float);

    public KvSequence CreateSequence(int maxLength) => new(this, maxLength);

    internal int KvDim => _kvDim;

    internal float[] RentPage()
    {
        lock (_free)
        {
            if (_pagesInUse >= _maxPages)
            {
                throw new KvCacheFullException($"the KV cache is full ({_maxPages * PageTokens} tokens across all sequences)");
            }

            _pagesInUse++;
            return _free.Count > 0 ? _free.Pop() : new float[PageFloats];
        }
    }

    internal void ReturnPage(float[] page)
    {
        lock (_free)
        {
            _pagesInUse--;
            _free.Push(page);
        }
    }

    /// <summary>Offset of (layer, K or V, slot) inside a page.</summary>
    internal int Offset(int layer, int kOrV, int slot) => ((layer * 2 + kOrV) * PageTokens + slot) * _kvDim;
}
