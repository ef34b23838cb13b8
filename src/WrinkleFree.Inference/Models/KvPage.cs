namespace WrinkleFree.Inference.Models;

/// <summary>
/// One page of <see cref="KvCache"/> storage and its sharing state. Every field except <see cref="Data"/>'s contents is
/// read and written under the cache's lock; a page with <see cref="Id"/> set is registered and therefore read-only.
/// </summary>
internal sealed class KvPage(float[] data)
{
    public float[] Data { get; } = data;

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
