namespace WrinkleFree.Inference.Models;

/// <summary>
/// One page of <see cref="KvCache"/> storage and its sharing state. Every field except <see cref="Data"/>'s contents is
/// read and written under the cache's lock; a page with <see cref="Id"/> set is registered and therefore read-only.
/// </summary>
/// <remarks>
/// Keys and values are stored as IEEE half precision by default (as llama.cpp's F16 cache), or as floats
/// (<see cref="KvPrecision"/>): attention reads every cached position every step, so at long contexts and many sequences
/// it streams the cache from memory, and two bytes a value halve that stream and the cache's footprint
/// (docs/benchmarks.md, "Half-precision KV cache").
/// The values are native memory advised for transparent huge pages (<see cref="Native.HugePageMemory"/>): a page is
/// layers x 2 x 64 x KvDim values (9 MB on the 700m shape), and faulting that in 4 KiB at a time cost a prompt about
/// 40 ms a fresh page (measured: a replica's RopeAndCache phase 61-130 ms against 9-13 while the prefix cache kept taking
/// new pages; with huge pages the first prompt's RopeAndCache phase took 8-9 ms, as warm). Freed with the cache
/// (<see cref="KvCache.Dispose"/>) or its finalizer.
/// </remarks>
internal sealed unsafe class KvPage
{
    private readonly Native.HugePageMemory _memory;

    public KvPage(int elements, int elementBytes)
    {
        Bytes = (long)elements * elementBytes;
        _memory = new Native.HugePageMemory(Bytes);
        if (!_memory.ZeroFilled)
        {
            // Attention weighs slots past a sequence's length by zero, and zero times leftover NaN bits would not be zero.
            Clear();
        }
    }

    /// <summary>Size of the page's values in bytes.</summary>
    public long Bytes { get; }

    /// <summary>The page's first byte, for row pointers (half or float values, as the cache's precision says). Valid until the cache is disposed.</summary>
    public byte* Pointer => _memory.Pointer;

    /// <summary>Zeroes every value.</summary>
    public void Clear() => System.Runtime.InteropServices.NativeMemory.Clear(_memory.Pointer, (nuint)Bytes);

    /// <summary>Copies every value into <paramref name="destination"/> (a page of the same cache).</summary>
    public void CopyTo(KvPage destination) => Buffer.MemoryCopy(_memory.Pointer, destination._memory.Pointer, destination.Bytes, Bytes);

    public void Free() => _memory.Dispose();

    /// <summary>Sequences holding the page; 0 means free or cached-but-idle.</summary>
    public int RefCount { get; set; }

    /// <summary>Identity of the registered content (0: private to one sequence, writable).</summary>
    public long Id { get; set; }

    /// <summary>Chained hash of the token ids of this page and every page before it.</summary>
    public ulong Hash { get; set; }

    /// <summary>Identity of the registered page before this one (0 for the first page of a prompt).</summary>
    public long ParentId { get; set; }

    /// <summary>The token ids whose keys and values the page holds, compared on every hit: a hash alone is never trusted.</summary>
    public int[]? Tokens { get; set; }

    /// <summary>A faulted sequence held the page: zero it when the last holder lets go and never hand it out as cached.</summary>
    public bool Tainted { get; set; }

    /// <summary>Its node in the idle list while registered and unreferenced.</summary>
    public LinkedListNode<KvPage>? Idle { get; set; }
}
