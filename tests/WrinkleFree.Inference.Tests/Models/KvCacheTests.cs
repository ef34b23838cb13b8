using WrinkleFree.Inference.Gguf;
using WrinkleFree.Inference.Models;

namespace WrinkleFree.Inference.Tests.Models;

[Collection(SyntheticModelCollection.Name)]
public sealed class KvCacheTests(SyntheticModelFixture models)
{
    private const int Page = KvCache.PageTokens;

    [Fact]
    public void MapPrefix_AfterPublishAndDispose_MapsOnlyVerifiedFullPages()
    {
        var cache = Cache(pages: 8);
        var tokens = Enumerable.Range(100, 3 * Page + 10).ToArray();
        Write(cache, tokens, tokens.Length);
        Assert.Equal(3, cache.CachedPages);
        Assert.Equal(0, cache.PagesInUse);

        using var same = cache.CreateSequence(1024);
        Assert.Equal(3 * Page, same.MapPrefix(tokens, tokens.Length));
        Assert.Equal(3 * Page, same.Length);
        Assert.Equal(3, cache.PagesInUse);

        // One token changed in the second page: the first page still matches, nothing after it does.
        var changed = tokens.ToArray();
        changed[Page + 5]++;
        using var diverged = cache.CreateSequence(1024);
        Assert.Equal(Page, diverged.MapPrefix(changed, changed.Length));

        // A page's content only matches after the same parent: the second page alone is not a prefix.
        using var shifted = cache.CreateSequence(1024);
        Assert.Equal(0, shifted.MapPrefix(tokens.AsSpan(Page).ToArray(), 2 * Page));
    }

    [Fact]
    public void MapPrefix_Disabled_MapsNothingAndPublishKeepsNothing()
    {
        var cache = new KvCache(Config(), 8 * Page, prefixCaching: false);
        var tokens = Enumerable.Range(1, 2 * Page).ToArray();
        Write(cache, tokens, tokens.Length);
        Assert.Equal(0, cache.CachedPages);
        using var seq = cache.CreateSequence(1024);
        Assert.Equal(0, seq.MapPrefix(tokens, tokens.Length));
    }

    [Fact]
    public void RentPage_BudgetFull_EvictsIdleCachedPagesOldestFirst()
    {
        var cache = Cache(pages: 4);
        var a = Enumerable.Range(1, 2 * Page).ToArray();
        var b = Enumerable.Range(5000, 2 * Page).ToArray();
        Write(cache, a, a.Length);
        Write(cache, b, b.Length);
        Assert.Equal(4, cache.CachedPages);

        // Using `a` again makes `b` the least recently used.
        using (var touch = cache.CreateSequence(1024))
        {
            Assert.Equal(2 * Page, touch.MapPrefix(a, a.Length));
        }

        using (var fresh = cache.CreateSequence(1024))
        {
            fresh.EnsureCapacity(2 * Page);
        }

        Assert.Equal(2, cache.PagesEvictedTotal);
        using var probeA = cache.CreateSequence(1024);
        Assert.Equal(2 * Page, probeA.MapPrefix(a, a.Length));
        using var probeB = cache.CreateSequence(1024);
        Assert.Equal(0, probeB.MapPrefix(b, b.Length));
    }

    [Fact]
    public void RentPage_AllPagesHeld_ThrowsCacheFull()
    {
        var cache = Cache(pages: 2);
        var tokens = Enumerable.Range(1, 2 * Page).ToArray();
        using var holder = cache.CreateSequence(1024);
        holder.EnsureCapacity(2 * Page);
        using var other = cache.CreateSequence(1024);
        Assert.Throws<KvCacheFullException>(() => other.EnsureCapacity(1));
        Assert.Equal(0, other.MapPrefix(tokens, tokens.Length));
    }

    [Fact]
    public void EnsureCapacity_AfterTruncateIntoSharedPage_CopiesInsteadOfWriting()
    {
        var cache = Cache(pages: 8);
        var tokens = Enumerable.Range(1, 2 * Page).ToArray();
        Write(cache, tokens, tokens.Length);
        using var reader = cache.CreateSequence(1024);
        reader.MapPrefix(tokens, tokens.Length);
        var before = KeyOf(reader, Page + 3);

        using var writer = cache.CreateSequence(1024);
        writer.MapPrefix(tokens, tokens.Length);
        writer.Truncate(Page + 3);
        writer.EnsureCapacity(Page + 4);
        writer.Store(0, 0, Page + 3, 0, Row(writer, 42f));

        Assert.Equal(before, KeyOf(reader, Page + 3));
        Assert.Equal(42f, KeyOf(writer, Page + 3)[0]);
    }

    [Fact]
    public void Scrub_SharedPages_LeaveTheCacheAndComeBackZeroed()
    {
        var cache = Cache(pages: 2);
        var tokens = Enumerable.Range(1, Page).ToArray();
        using (var faulted = cache.CreateSequence(1024))
        {
            faulted.EnsureCapacity(Page);
            faulted.Store(0, 0, 0, 0, Row(faulted, float.NaN));
            faulted.Commit(Page);
            faulted.Publish(tokens);
            faulted.Scrub();
        }

        Assert.Equal(0, cache.CachedPages);
        using var next = cache.CreateSequence(1024);
        Assert.Equal(0, next.MapPrefix(tokens, tokens.Length));
        next.EnsureCapacity(2 * Page);
        Assert.Equal(0f, KeyOf(next, 0)[0]);
        Assert.Equal(0f, KeyOf(next, Page)[0]);
    }

    private ModelConfig Config()
    {
        using var model = Model.Load(models.Path(GgmlType.TQ2_0));
        return model.Config;
    }

    private KvCache Cache(int pages) => new(Config(), pages * Page, prefixCaching: true);

    /// <summary>Writes <paramref name="length"/> positions (a recognizable value per position) and publishes them.</summary>
    private static void Write(KvCache cache, int[] tokens, int length)
    {
        using var seq = cache.CreateSequence(1024);
        seq.EnsureCapacity(length);
        for (var p = 0; p < length; p++)
        {
            seq.Store(0, 0, p, 0, Row(seq, p));
        }

        seq.Commit(length);
        seq.Publish(tokens);
    }

    /// <summary>Layer 0's key of KV head 0 at <paramref name="position"/>, as floats.</summary>
    private static float[] KeyOf(KvSequence seq, int position)
    {
        var row = new float[seq.HeadDim];
        seq.Read(0, 0, position, 0, row);
        return row;
    }

    private static float[] Row(KvSequence seq, float value) => Enumerable.Repeat(value, seq.HeadDim).ToArray();
}
