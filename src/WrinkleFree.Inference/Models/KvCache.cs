namespace WrinkleFree.Inference.Models;

/// <summary>
/// Paged key/value storage shared by all sequences of one runner. A page holds <see cref="PageTokens"/> positions of every
/// layer's K and V; sequences take pages from a free list as they grow and return them when they finish, so memory follows
/// the tokens actually held and steady-state decoding allocates nothing.
/// </summary>
/// <remarks>
/// With prefix caching on, a full page of a sequence's tokens is registered under a hash chained over the token ids of
/// every page up to it, so a later prompt starting with the same tokens maps the page instead of recomputing it.
/// Registered pages are read-only and refcounted; once no sequence holds one it stays cached on an LRU list until a new
/// page is needed and no free one is left. The budget counts all pages: held, cached and free.
/// </remarks>
public sealed class KvCache : IDisposable
{
    public const int PageTokens = 64;

    // Chain seed for the first page, so an empty parent is never confused with a page whose chained hash happens to be 0.
    private const ulong ChainSeed = 0x9E3779B97F4A7C15UL;

    private readonly Lock _lock = new();
    private readonly Stack<KvPage> _free = new();
    private readonly Dictionary<ulong, KvPage> _index = [];
    private readonly LinkedList<KvPage> _idle = new();
    private readonly List<KvPage> _pages = [];
    private readonly int _layers;
    private readonly int _kvDim;
    private readonly int _kvHeads;
    private readonly int _headDim;
    private readonly long _maxPages;
    private long _pagesInUse;
    private long _nextId;
    private long _hitTokens;
    private long _pagesCached;
    private long _pagesEvicted;

    public KvCache(ModelConfig config, long maxTokens, bool prefixCaching = false, KvPrecision precision = KvPrecision.F16)
    {
        if (!Enum.IsDefined(precision))
        {
            throw new ArgumentOutOfRangeException(nameof(precision), precision, "the KV cache stores F16 or F32 values");
        }

        Precision = precision;
        _layers = config.Layers;
        _kvDim = config.KvDim;
        _kvHeads = config.KvHeads;
        _headDim = config.HeadDim;
        _maxPages = Math.Max(1, (maxTokens + PageTokens - 1) / PageTokens);
        PrefixCaching = prefixCaching;
    }

    /// <summary>How keys and values are stored.</summary>
    public KvPrecision Precision { get; }

    /// <summary>Bytes per stored value: 2 (F16) or 4 (F32).</summary>
    internal int ElementBytes => Precision == KvPrecision.F16 ? sizeof(ushort) : sizeof(float);

    /// <summary>Whether full pages are kept and shared between sequences with the same leading tokens.</summary>
    public bool PrefixCaching { get; }

    /// <summary>Values one page holds: layers x (K, V) x PageTokens x kvDim.</summary>
    public int PageElements => _layers * 2 * PageTokens * _kvDim;

    /// <summary>Pages held by at least one live sequence (cached pages no sequence holds are not counted).</summary>
    public long PagesInUse => Interlocked.Read(ref _pagesInUse);

    /// <summary>Registered pages, held or idle.</summary>
    public long CachedPages { get { lock (_lock) { return _index.Count; } } }

    /// <summary>Prompt tokens whose keys and values came from cached pages instead of prefill.</summary>
    public long HitTokens => Interlocked.Read(ref _hitTokens);

    /// <summary>Pages registered for sharing since the cache was made.</summary>
    public long PagesCachedTotal => Interlocked.Read(ref _pagesCached);

    /// <summary>Idle cached pages dropped to make room for new ones.</summary>
    public long PagesEvictedTotal => Interlocked.Read(ref _pagesEvicted);

    public long MaxTokens => _maxPages * PageTokens;

    /// <summary>Bytes currently held by sequences.</summary>
    public long BytesInUse => PagesInUse * PageElements * ElementBytes;

    public KvSequence CreateSequence(int maxLength) => new(this, maxLength);

    /// <summary>
    /// Allocates and writes free pages until <paramref name="pages"/> are free (within the budget), so the page faults of
    /// fresh pages are paid now rather than by the first prompts that need them. Returns the pages free afterwards.
    /// </summary>
    public int Prefault(int pages)
    {
        lock (_lock)
        {
            while (_free.Count < pages && _pages.Count < _maxPages)
            {
                var page = NewPage();
                page.Clear();
                _free.Push(page);
            }

            return _free.Count;
        }
    }

    /// <summary>Frees every page's memory; no sequence of this cache may be used afterwards.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            foreach (var page in _pages)
            {
                page.Free();
            }

            _pages.Clear();
            _free.Clear();
            _index.Clear();
            _idle.Clear();
        }
    }

    /// <summary>Under the lock: a new page (untouched memory), counted against the budget.</summary>
    private KvPage NewPage()
    {
        var page = new KvPage(PageElements, ElementBytes);
        _pages.Add(page);
        return page;
    }

    internal KvPage RentPage()
    {
        lock (_lock)
        {
            KvPage page;
            if (_free.Count > 0)
            {
                page = _free.Pop();
            }
            else if (_pages.Count < _maxPages)
            {
                page = NewPage();
            }
            else if (_idle.First is { } oldest)
            {
                page = oldest.Value;
                Unregister(page);
                _pagesEvicted++;
            }
            else
            {
                throw new KvCacheFullException($"the KV cache is full ({_maxPages * PageTokens} tokens across all sequences)");
            }

            page.RefCount = 1;
            _pagesInUse++;
            return page;
        }
    }

    internal void ReturnPage(KvPage page)
    {
        lock (_lock)
        {
            if (--page.RefCount > 0)
            {
                return;
            }

            _pagesInUse--;
            if (page.Tainted)
            {
                // Attention weighs slots past a sequence's length by zero, and zero times NaN would poison the next owner.
                page.Clear();
                page.Tainted = false;
            }

            if (page.Id != 0)
            {
                page.Idle = _idle.AddLast(page);
            }
            else
            {
                _free.Push(page);
            }
        }
    }

    /// <summary>Marks a page a faulted sequence held: it leaves the index now and is zeroed when its last holder lets go.</summary>
    internal void Taint(KvPage page)
    {
        lock (_lock)
        {
            page.Tainted = true;
            if (page.Id != 0 && _index.TryGetValue(page.Hash, out var registered) && registered == page)
            {
                _index.Remove(page.Hash);
            }

            page.Id = 0;
            page.Tokens = null;
        }
    }

    /// <summary>
    /// Appends to <paramref name="pages"/> the cached pages that hold the leading full pages of <paramref name="tokens"/>
    /// (at most <paramref name="maxTokens"/> tokens), each verified token by token and by its parent's identity.
    /// </summary>
    internal int MapPrefix(List<KvPage> pages, ReadOnlySpan<int> tokens, int maxTokens, out long lastId, out ulong lastHash)
    {
        lastId = 0;
        lastHash = ChainSeed;
        if (!PrefixCaching)
        {
            return 0;
        }

        var full = Math.Min(tokens.Length, maxTokens) / PageTokens;
        var mapped = 0;
        lock (_lock)
        {
            for (var p = 0; p < full; p++)
            {
                var slice = tokens.Slice(p * PageTokens, PageTokens);
                var hash = Chain(lastHash, slice);
                if (!_index.TryGetValue(hash, out var page) || page.ParentId != lastId || !slice.SequenceEqual(page.Tokens))
                {
                    break;
                }

                if (page.RefCount++ == 0)
                {
                    _idle.Remove(page.Idle!);
                    page.Idle = null;
                    _pagesInUse++;
                }

                pages.Add(page);
                lastId = page.Id;
                lastHash = hash;
                mapped++;
            }
        }

        Interlocked.Add(ref _hitTokens, (long)mapped * PageTokens);
        return mapped * PageTokens;
    }

    /// <summary>
    /// Registers a fully written page as the continuation of the page <paramref name="parentId"/>. Returns the identity
    /// that now stands for this content (the page's own, or an equal page another sequence registered first), or 0 when
    /// the hash is taken by different content, which ends the chain.
    /// </summary>
    internal long Register(KvPage page, long parentId, ulong parentHash, ReadOnlySpan<int> tokens, out ulong hash)
    {
        hash = Chain(parentHash, tokens);
        lock (_lock)
        {
            if (page.Tainted)
            {
                return 0;
            }

            if (_index.TryGetValue(hash, out var existing))
            {
                return existing.ParentId == parentId && tokens.SequenceEqual(existing.Tokens) ? existing.Id : 0;
            }

            page.Id = ++_nextId;
            page.Hash = hash;
            page.ParentId = parentId;
            page.Tokens = tokens.ToArray();
            _index.Add(hash, page);
            _pagesCached++;
            return page.Id;
        }
    }

    /// <summary>Under the lock: an idle cached page leaves the index and the idle list (it is about to be reused).</summary>
    private void Unregister(KvPage page)
    {
        _idle.Remove(page.Idle!);
        page.Idle = null;
        _index.Remove(page.Hash);
        page.Id = 0;
        page.Tokens = null;
    }

    internal static ulong InitialHash => ChainSeed;

    /// <summary>FNV-1a over the token ids, seeded with the parent's hash and finished with a SplitMix64 avalanche.</summary>
    private static ulong Chain(ulong parent, ReadOnlySpan<int> tokens)
    {
        var h = parent;
        foreach (var t in tokens)
        {
            h = (h ^ (uint)t) * 0x100000001B3UL;
        }

        h ^= h >> 30;
        h *= 0xBF58476D1CE4E5B9UL;
        h ^= h >> 27;
        h *= 0x94D049BB133111EBUL;
        return h ^ (h >> 31);
    }

    /// <summary>
    /// Offset of the run of (layer, K or V, KV head) inside a page: PageTokens × HeadDim values. Each KV head's 64 positions
    /// lie together (head-major), so attention streams one contiguous run per head instead of a head-sized piece of every
    /// position's row. A value run is position-major (position s's row at s × HeadDim). A key run is dimension-major in
    /// blocks of <see cref="KeyBlock"/> positions: dimension d of position s at (s / 16) × 16 × HeadDim + d × 16 + s % 16, so
    /// attention's scores take 16 positions per vector with no horizontal sums (<see cref="AttentionKernel.Scores"/>), and
    /// storing one position's key touches HeadDim / 2 cache lines (a whole page's width, 64 positions, would touch HeadDim).
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    internal int Offset(int layer, int kOrV, int kvHead) => ((layer * 2 + kOrV) * _kvHeads + kvHead) * PageTokens * _headDim;

    internal int HeadDim => _headDim;

    /// <summary>Positions per dimension-major block of a key run (<see cref="Offset"/>): one 512-bit vector of floats.</summary>
    internal const int KeyBlock = 16;

    /// <summary>Where dimension <paramref name="d"/> of the key at <paramref name="slot"/> lies in its run, in values.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    internal static int KeyIndex(int slot, int d, int headDim) => (slot / KeyBlock * headDim + d) * KeyBlock + slot % KeyBlock;
}
