using System.Runtime.CompilerServices;

namespace WrinkleFree.Inference.Sampling;

/// <summary>
/// Packs a (logit, token id) pair into one ulong whose ascending order is "higher logit first, then lower id".
/// One primitive array then serves selection and sorting with a deterministic total order and no comparer.
/// </summary>
internal static class CandidateKeys
{
    public static ulong Encode(float logit, int id) => ((ulong)~Orderable(logit) << 32) | (uint)id;

    public static int Id(ulong key) => (int)(uint)key;

    public static float Logit(ulong key)
    {
        var u = ~(uint)(key >> 32);
        // Undo Orderable: a set top bit marks a non-negative float.
        var bits = (u & 0x8000_0000u) != 0 ? u & 0x7FFF_FFFFu : ~u;
        return BitConverter.UInt32BitsToSingle(bits);
    }

    /// <summary>
    /// Rearranges <paramref name="keys"/> so its first <paramref name="k"/> entries are its k smallest (in no order):
    /// nth_element, expected O(n), with a full sort as the fallback if partitioning degrades.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void SelectSmallest(Span<ulong> keys, int k)
    {
        if (k <= 0 || k >= keys.Length)
        {
            return;
        }

        int lo = 0, hi = keys.Length - 1;
        var budget = 2 * (64 - (int)ulong.LeadingZeroCount((ulong)keys.Length)) + 8;
        while (hi > lo)
        {
            if (--budget < 0)
            {
                keys[lo..(hi + 1)].Sort();
                return;
            }

            // Median of three keeps sorted or reversed input (common for logits fed in id order) linear.
            var mid = lo + ((hi - lo) >> 1);
            if (keys[mid] < keys[lo])
            {
                (keys[mid], keys[lo]) = (keys[lo], keys[mid]);
            }

            if (keys[hi] < keys[lo])
            {
                (keys[hi], keys[lo]) = (keys[lo], keys[hi]);
            }

            if (keys[hi] < keys[mid])
            {
                (keys[hi], keys[mid]) = (keys[mid], keys[hi]);
            }

            var pivot = keys[mid];
            int i = lo, j = hi;
            while (i <= j)
            {
                while (keys[i] < pivot)
                {
                    i++;
                }

                while (keys[j] > pivot)
                {
                    j--;
                }

                if (i <= j)
                {
                    (keys[i], keys[j]) = (keys[j], keys[i]);
                    i++;
                    j--;
                }
            }

            if (k <= j)
            {
                hi = j;
            }
            else if (k >= i)
            {
                lo = i;
            }
            else
            {
                return;
            }
        }
    }

    /// <summary>
    /// Fills <paramref name="heap"/> with the keys of the <c>heap.Length</c> best logits (in no order) and returns how
    /// many it holds. One pass with a bounded heap: most logits lose a single float comparison against the current
    /// worst, which is predictable, unlike partitioning 150k random values.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int SelectBest(ReadOnlySpan<float> logits, Span<ulong> heap)
    {
        if (heap.IsEmpty)
        {
            return 0;
        }

        var n = 0;
        var worst = float.NegativeInfinity;
        for (var i = 0; i < logits.Length; i++)
        {
            var logit = logits[i];
            if (n == heap.Length)
            {
                if (logit < worst)
                {
                    continue;
                }

                var key = Encode(logit, i);
                if (key >= heap[0])
                {
                    continue;
                }

                heap[0] = key;
                SiftDown(heap);
                worst = Logit(heap[0]);
            }
            else
            {
                heap[n] = Encode(logit, i);
                SiftUp(heap, n++);
                if (n == heap.Length)
                {
                    worst = Logit(heap[0]);
                }
            }
        }

        return n;
    }

    // Max-heap on keys: the root is the worst candidate kept so far.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void SiftUp(Span<ulong> heap, int i)
    {
        var key = heap[i];
        while (i > 0)
        {
            var parent = (i - 1) >> 1;
            if (heap[parent] >= key)
            {
                break;
            }

            heap[i] = heap[parent];
            i = parent;
        }

        heap[i] = key;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void SiftDown(Span<ulong> heap)
    {
        var key = heap[0];
        var i = 0;
        while (true)
        {
            var child = (2 * i) + 1;
            if (child >= heap.Length)
            {
                break;
            }

            if (child + 1 < heap.Length && heap[child + 1] > heap[child])
            {
                child++;
            }

            if (heap[child] <= key)
            {
                break;
            }

            heap[i] = heap[child];
            i = child;
        }

        heap[i] = key;
    }

    // Maps float bits to a uint whose unsigned order matches the float order (negatives flipped, positives offset).
    private static uint Orderable(float f)
    {
        var bits = BitConverter.SingleToUInt32Bits(f);
        return (bits & 0x8000_0000u) != 0 ? ~bits : bits | 0x8000_0000u;
    }
}
