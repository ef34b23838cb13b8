namespace WrinkleFree.Service.Placement;

/// <summary>
/// Partial ordering for decision-time hot paths: bring the k smallest items to the front in O(n) expected time instead of
/// sorting all n (a tick at 10,000 replicas usually needs a handful of victims or a median).
/// </summary>
internal static class Selection
{
    /// <summary>Reorders <paramref name="items"/> so that its first <paramref name="k"/> items are the k smallest, in order.</summary>
    public static void SmallestFirst<T>(Span<T> items, int k, Comparison<T> compare)
    {
        if (k <= 0)
            return;
        if (k < items.Length)
            Partition(items, k, compare);
        items[..Math.Min(k, items.Length)].Sort(compare);
    }

    /// <summary>The item of rank <paramref name="index"/> (0 = smallest), reordering <paramref name="items"/> around it.</summary>
    public static T Nth<T>(Span<T> items, int index, Comparison<T> compare)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, items.Length);
        Partition(items, index + 1, compare);
        return items[index];
    }

    /// <summary>Places the item of rank <paramref name="k"/> - 1 so that everything before it compares less or equal.</summary>
    private static void Partition<T>(Span<T> items, int k, Comparison<T> compare)
    {
        var lo = 0;
        var hi = items.Length - 1;
        var target = k - 1;
        while (hi > lo)
        {
            // Median of three keeps already-sorted input (common: replicas listed in launch order) from going quadratic.
            var mid = lo + (hi - lo) / 2;
            if (compare(items[mid], items[lo]) < 0) (items[mid], items[lo]) = (items[lo], items[mid]);
            if (compare(items[hi], items[lo]) < 0) (items[hi], items[lo]) = (items[lo], items[hi]);
            if (compare(items[hi], items[mid]) < 0) (items[hi], items[mid]) = (items[mid], items[hi]);
            var pivot = items[mid];
            var i = lo;
            var j = hi;
            while (i <= j)
            {
                while (compare(items[i], pivot) < 0) i++;
                while (compare(items[j], pivot) > 0) j--;
                if (i <= j)
                {
                    (items[i], items[j]) = (items[j], items[i]);
                    i++;
                    j--;
                }
            }
            if (target <= j)
                hi = j;
            else if (target >= i)
                lo = i;
            else
                return;
        }
    }
}
