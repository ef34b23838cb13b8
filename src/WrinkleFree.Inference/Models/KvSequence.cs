namespace WrinkleFree.Inference.Models;

/// <summary>One sequence's keys and values across all layers, held in pages of the shared <see cref="KvCache"/>.</summary>
/// <remarks>
/// The leading pages may be shared with other sequences (mapped from the prefix cache, or registered by this one once full);
/// shared pages are never written: only positions at or past <see cref="Length"/> are, and a shared page lies wholly before
/// it unless <see cref="Truncate"/> moved it back, in which case the page is copied before its first write.
/// </remarks>
public sealed class KvSequence : IDisposable
{
    private readonly KvCache _cache;
    private readonly List<KvPage> _pages = [];
    // Leading pages whose content is registered in the cache, and the identity and chained hash of the last of them.
    private int _chained;
    private long _chainId;
    private ulong _chainHash = KvCache.InitialHash;

    internal KvSequence(KvCache cache, int maxLength)
    {
        _cache = cache;
        MaxLength = maxLength;
    }

    /// <summary>Positions written so far.</summary>
    public int Length { get; private set; }

    public int MaxLength { get; }

    /// <summary>
    /// On a new sequence: maps the cached pages holding the leading full pages of <paramref name="tokens"/>, at most
    /// <paramref name="maxTokens"/> tokens, and returns how many positions they cover (a multiple of the page size).
    /// </summary>
    public int MapPrefix(ReadOnlySpan<int> tokens, int maxTokens)
    {
        if (_pages.Count != 0 || Length != 0)
        {
            throw new InvalidOperationException("a prefix can only be mapped into an empty sequence");
        }

        var mapped = _cache.MapPrefix(_pages, tokens, Math.Min(maxTokens, MaxLength), out _chainId, out _chainHash);
        _chained = _pages.Count;
        Length = mapped;
        return mapped;
    }

    /// <summary>
    /// Registers the full pages written so far for sharing. <paramref name="tokens"/> are the token ids fed at each position
    /// (the prompt, then the generated tokens); pages past them or not yet fully written stay private.
    /// </summary>
    public void Publish(ReadOnlySpan<int> tokens)
    {
        if (!_cache.PrefixCaching)
        {
            return;
        }

        var full = Math.Min(Length, tokens.Length) / KvCache.PageTokens;
        while (_chained < full)
        {
            var id = _cache.Register(_pages[_chained], _chainId, _chainHash, tokens.Slice(_chained * KvCache.PageTokens, KvCache.PageTokens), out var hash);
            if (id == 0)
            {
                // Different content holds this hash: later pages cannot be chained to it, so they stay private. Marking the
                // chain as complete up to `full` keeps later calls from retrying the same registration every step.
                _chained = int.MaxValue;
                return;
            }

            _chainId = id;
            _chainHash = hash;
            _chained++;
        }
    }

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

        // Normally the page written next is private; a shared one is only reached after Truncate moved the end back.
        if (length > 0 && _pages[(length - 1) / KvCache.PageTokens] is { } page && (page.Id != 0 || page.RefCount > 1))
        {
            CopyOnWrite((length - 1) / KvCache.PageTokens);
        }
    }

    /// <summary>Marks positions [0, length) as written (call after the step that wrote them).</summary>
    public void Commit(int length) => Length = Math.Max(Length, length);

    /// <summary>Drops positions from <paramref name="length"/> on (e.g. to reuse a shared prompt prefix).</summary>
    public void Truncate(int length)
    {
        Length = Math.Min(Length, length);
        if (_chained != int.MaxValue && _chained * KvCache.PageTokens > Length)
        {
            // Pages from the one holding the new end on may be rewritten; they are no longer part of this sequence's chain.
            // (Leaving _chainId at the dropped page would let a later page chain to the wrong parent, so start over.)
            _chained = 0;
            _chainId = 0;
            _chainHash = KvCache.InitialHash;
        }
    }

    /// <summary>Stores one KV head's key (<paramref name="kOrV"/> 0) or value (1) at <paramref name="position"/> in the cache's precision.</summary>
    // SkipLocalsInit: the key's halves are all written before they are scattered; this runs per token, layer and KV head.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    [System.Runtime.CompilerServices.SkipLocalsInit]
    internal unsafe void Store(int layer, int kOrV, int position, int kvHead, ReadOnlySpan<float> values)
    {
        var headDim = _cache.HeadDim;
        var at = Element(layer, kOrV, position, kvHead, out var stride);
        if (_cache.Precision == KvPrecision.F16)
        {
            if (stride == 1)
            {
                HalfMath.ToHalf(values[..headDim], new Span<Half>(at, headDim));
                return;
            }

            Span<Half> halves = stackalloc Half[headDim];
            HalfMath.ToHalf(values[..headDim], halves);
            for (var d = 0; d < headDim; d++)
            {
                ((Half*)at)[d * stride] = halves[d];
            }

            return;
        }

        for (var d = 0; d < headDim; d++)
        {
            ((float*)at)[d * stride] = values[d];
        }
    }

    // Called per cached position by attention's per-position form (the path for head sizes the row-pointer kernel does not
    // take), thousands of times a step: inlined there, so a fresh process does not run them unoptimized (the first
    // 128-token prompt of a replica spent 213 ms in attention against 60).
    /// <summary>Reads one KV head's key (<paramref name="kOrV"/> 0) or value (1) at <paramref name="position"/> as floats.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    internal unsafe void Read(int layer, int kOrV, int position, int kvHead, Span<float> destination)
    {
        var headDim = _cache.HeadDim;
        var at = Element(layer, kOrV, position, kvHead, out var stride);
        if (_cache.Precision == KvPrecision.F16)
        {
            if (stride == 1)
            {
                fixed (float* d = destination[..headDim])
                {
                    HalfMath.ToSingle((Half*)at, d, headDim);
                }

                return;
            }

            for (var d = 0; d < headDim; d++)
            {
                destination[d] = (float)((Half*)at)[d * stride];
            }

            return;
        }

        for (var d = 0; d < headDim; d++)
        {
            destination[d] = ((float*)at)[d * stride];
        }
    }

    /// <summary>
    /// Where the first value of a position's key or value lies, and how many values apart its dimensions are: a value row
    /// is contiguous (1), a key's dimensions are <see cref="KvCache.KeyBlock"/> apart (<see cref="KvCache.Offset"/>).
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private unsafe byte* Element(int layer, int kOrV, int position, int kvHead, out int stride)
    {
        var slot = position % KvCache.PageTokens;
        stride = kOrV == 0 ? KvCache.KeyBlock : 1;
        var first = kOrV == 0 ? KvCache.KeyIndex(slot, 0, _cache.HeadDim) : slot * _cache.HeadDim;
        return PageRows(layer, kOrV, kvHead, position / KvCache.PageTokens) + (long)first * _cache.ElementBytes;
    }

    /// <summary>Values per cached key or value row of one KV head.</summary>
    internal int HeadDim => _cache.HeadDim;

    /// <summary>How the cache stores keys and values.</summary>
    internal KvPrecision Precision => _cache.Precision;

    /// <summary>
    /// The first value (half or float, as <see cref="Precision"/> says) of layer <paramref name="layer"/>'s key
    /// (<paramref name="kOrV"/> 0) or value (1) run of KV head <paramref name="kvHead"/> in the sequence's page
    /// <paramref name="page"/>: PageTokens × HeadDim values, keys dimension-major and values position-major
    /// (<see cref="KvCache.Offset"/>). Valid until the sequence maps, copies or drops that page.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    internal unsafe byte* PageRows(int layer, int kOrV, int kvHead, int page) =>
        _pages[page].Pointer + (long)_cache.Offset(layer, kOrV, kvHead) * _cache.ElementBytes;

    /// <summary>A registered page is about to be written after a truncate: this sequence takes a private copy.</summary>
    private void CopyOnWrite(int index)
    {
        var shared = _pages[index];
        var copy = _cache.RentPage();
        shared.CopyTo(copy);
        _pages[index] = copy;
        _cache.ReturnPage(shared);
    }

    /// <summary>
    /// After a sequence produced NaN or infinity its pages must not go back dirty or stay cached: they leave the prefix
    /// cache now and are zeroed when their last holder lets go.
    /// </summary>
    public void Scrub()
    {
        foreach (var p in _pages)
        {
            _cache.Taint(p);
        }

        _chained = int.MaxValue;
    }

    public void Dispose()
    {
        foreach (var p in _pages)
        {
            _cache.ReturnPage(p);
        }

        _pages.Clear();
        Length = 0;
        _chained = 0;
        _chainId = 0;
        _chainHash = KvCache.InitialHash;
    }
}
