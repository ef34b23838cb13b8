using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace WrinkleFree.Inference.Models;

/// <summary>
/// Causal attention's two products over one page of a KV head's cached rows, converted to floats
/// (<see cref="ModelRunner.AttentionWork"/> converts each page once for all the query heads that share the KV head).
/// </summary>
/// <remarks>
/// The per-position form (a dot product of the query with each key, then <see cref="HotMath.AddScaled"/> of each value
/// into the output) ran two dependent FMA chains per key and loaded and stored the whole output for every value: about 145
/// cycles per (position, head), which at 16 sequences and a 48-80 token context made attention 12 of 88 ms a step.
/// <para>
/// Scores: keys are cached dimension-major in blocks of 16 positions (<see cref="KvCache.Offset"/>), so a vector holds one
/// dimension of 16 positions, and a page's 64 scores for two query heads are eight FMA chains over the dimensions with no horizontal
/// sums. Each score is one fused chain in dimension order from zero, then the product with the scale
/// (<see cref="Dot"/>, which the per-position form uses), so the results are bit-identical to it at any vector width. With
/// keys position-major, each score needed two 8-lane chains and a horizontal sum; 16 sequences at a 512-token context
/// took 31.4-33.2 ms of attention a step at 2 threads against 26.5-27.4 now (`WrinkleFree.Bench profile --context 512`).
/// </para>
/// <para>
/// Mix: the output stays in registers across a page's positions, 128 dimensions per pass (one FMA per position in
/// position order from zero, as the per-position form), so its bits match too. The tests check both. Head sizes that are
/// not a multiple of 16, and hosts without 256-bit vectors, keep the per-position form.
/// </para>
/// </remarks>
internal static unsafe class AttentionKernel
{
    /// <summary>Whether <see cref="Scores"/> and <see cref="Mix"/> handle heads of <paramref name="headDim"/> floats.</summary>
    public static bool Supports(int headDim) => Vector256.IsHardwareAccelerated && headDim >= 16 && headDim % 16 == 0;

    /// <summary>
    /// Scores of <paramref name="heads"/> query heads (head j's <paramref name="headDim"/> floats at q + j·headDim) against
    /// one page's keys stored dimension-major in blocks of 16 positions (<see cref="KvCache.KeyIndex"/>):
    /// s[j·sStride + p] = (q_j · K_p)·scale for p in [0, count). Each score is one fused multiply-add chain over the
    /// dimensions in order, from zero, then one product with scale, as <see cref="Dot"/> computes it; the positions are the
    /// vector lanes, so every width gives the same bits and no lane is summed horizontally. The page's 64 positions are
    /// computed whatever <paramref name="count"/> is (a partial page's other lanes are discarded, and may read unconverted
    /// floats).
    /// </summary>
    // SkipLocalsInit: scratch is written before it is read, and zeroing it cost every call (thousands a step).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    [SkipLocalsInit]
    public static void Scores(float* q, int heads, float* kT, int headDim, int count, float scale, float* s, int sStride)
    {
        var scratch = stackalloc float[2 * KvCache.PageTokens];
        for (var j = 0; j < heads; j += 2)
        {
            // Two heads at a time share each key load: eight independent chains. An odd last head is computed twice.
            var q0 = q + (long)j * headDim;
            var q1 = j + 1 < heads ? q0 + headDim : q0;
            var s0 = s + (long)j * sStride;
            var s1 = j + 1 < heads ? s0 + sStride : null;
            // The pair's 64 scores each go straight to s on a full page; a partial page's, or an odd head's twin, to scratch.
            var direct = count >= KvCache.PageTokens && s1 != null;
            var d0 = direct ? s0 : scratch;
            var d1 = direct ? s1 : scratch + KvCache.PageTokens;
            if (Vector512.IsHardwareAccelerated)
            {
                Pair512(q0, q1, kT, headDim, scale, d0, d1);
            }
            else
            {
                Pair256(q0, q1, kT, headDim, scale, d0, d1);
                if (count > 32)
                {
                    Pair256(q0, q1, kT + 2 * KvCache.KeyBlock * headDim, headDim, scale, d0 + 32, d1 + 32);
                }
            }

            if (!direct)
            {
                var n = Math.Min(count, KvCache.PageTokens);
                new ReadOnlySpan<float>(scratch, n).CopyTo(new Span<float>(s0, n));
                if (s1 != null)
                {
                    new ReadOnlySpan<float>(scratch + KvCache.PageTokens, n).CopyTo(new Span<float>(s1, n));
                }
            }
        }
    }

    /// <summary>The reference order of one score: Σ_d q[d]·k[d] as a fused multiply-add chain from zero, times scale.</summary>
    public static float Dot(ReadOnlySpan<float> q, ReadOnlySpan<float> k, float scale)
    {
        var acc = 0f;
        for (var d = 0; d < q.Length; d++)
        {
            acc = MathF.FusedMultiplyAdd(q[d], k[d], acc);
        }

        return acc * scale;
    }

    /// <summary>
    /// The 64 scores of heads q0 and q1 against a page's keys into d0 and d1. Its own method, with nothing after the loop
    /// but stores: inlined into a caller with branches after it, the JIT kept four accumulators in memory across the loop,
    /// which made each iteration wait on a store and a load (4x the time).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Pair512(float* q0, float* q1, float* kT, int headDim, float scale, float* d0, float* d1)
    {
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default, b0 = default, b1 = default, b2 = default, b3 = default;
        var block = KvCache.KeyBlock * headDim;
        for (var d = 0; d < headDim; d++)
        {
            var k = kT + d * KvCache.KeyBlock;
            var x = Vector512.Create(q0[d]);
            var y = Vector512.Create(q1[d]);
            var k0 = Vector512.Load(k);
            var k1 = Vector512.Load(k + block);
            var k2 = Vector512.Load(k + 2 * block);
            var k3 = Vector512.Load(k + 3 * block);
            a0 = Vector512.FusedMultiplyAdd(x, k0, a0);
            a1 = Vector512.FusedMultiplyAdd(x, k1, a1);
            a2 = Vector512.FusedMultiplyAdd(x, k2, a2);
            a3 = Vector512.FusedMultiplyAdd(x, k3, a3);
            b0 = Vector512.FusedMultiplyAdd(y, k0, b0);
            b1 = Vector512.FusedMultiplyAdd(y, k1, b1);
            b2 = Vector512.FusedMultiplyAdd(y, k2, b2);
            b3 = Vector512.FusedMultiplyAdd(y, k3, b3);
        }

        var sc = Vector512.Create(scale);
        (a0 * sc).Store(d0);
        (a1 * sc).Store(d0 + 16);
        (a2 * sc).Store(d0 + 32);
        (a3 * sc).Store(d0 + 48);
        (b0 * sc).Store(d1);
        (b1 * sc).Store(d1 + 16);
        (b2 * sc).Store(d1 + 32);
        (b3 * sc).Store(d1 + 48);
    }

    /// <summary>Positions [0, 32) (two key blocks at kT) of <see cref="Pair512"/> in 8-float vectors (hosts without 512-bit vectors).</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Pair256(float* q0, float* q1, float* kT, int headDim, float scale, float* d0, float* d1)
    {
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default, b0 = default, b1 = default, b2 = default, b3 = default;
        var block = KvCache.KeyBlock * headDim;
        for (var d = 0; d < headDim; d++)
        {
            var k = kT + d * KvCache.KeyBlock;
            var x = Vector256.Create(q0[d]);
            var y = Vector256.Create(q1[d]);
            var k0 = Vector256.Load(k);
            var k1 = Vector256.Load(k + 8);
            var k2 = Vector256.Load(k + block);
            var k3 = Vector256.Load(k + block + 8);
            a0 = Vector256.FusedMultiplyAdd(x, k0, a0);
            a1 = Vector256.FusedMultiplyAdd(x, k1, a1);
            a2 = Vector256.FusedMultiplyAdd(x, k2, a2);
            a3 = Vector256.FusedMultiplyAdd(x, k3, a3);
            b0 = Vector256.FusedMultiplyAdd(y, k0, b0);
            b1 = Vector256.FusedMultiplyAdd(y, k1, b1);
            b2 = Vector256.FusedMultiplyAdd(y, k2, b2);
            b3 = Vector256.FusedMultiplyAdd(y, k3, b3);
        }

        var sc = Vector256.Create(scale);
        (a0 * sc).Store(d0);
        (a1 * sc).Store(d0 + 8);
        (a2 * sc).Store(d0 + 16);
        (a3 * sc).Store(d0 + 24);
        (b0 * sc).Store(d1);
        (b1 * sc).Store(d1 + 8);
        (b2 * sc).Store(d1 + 16);
        (b3 * sc).Store(d1 + 24);
    }

    /// <summary>
    /// output += Σ_p probs[p] · V_p over p in [0, count) in position order (output starts from zero when
    /// <paramref name="first"/>), V_p the p-th row of <paramref name="headDim"/> floats at <paramref name="v"/>. Called page
    /// by page: storing the sums between pages rounds nothing, so the result is the same as one pass over every position.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Mix(float* probs, float* v, int headDim, int count, float* output, bool first)
    {
        // Each output element takes one FMA per position in position order whatever the vector width, so 512-bit passes give
        // the same bits as 256-bit ones: 128 dimensions per pass where the host has them (one pass over the rows for a
        // 128-wide head), else 64. Eight accumulators, one independent FMA chain each, stay in registers over the positions.
        var d = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; d + 128 <= headDim; d += 128)
            {
                var o = output + d;
                Vector512<float> o0 = default, o1 = default, o2 = default, o3 = default, o4 = default, o5 = default, o6 = default, o7 = default;
                if (!first)
                {
                    o0 = Vector512.Load(o);
                    o1 = Vector512.Load(o + 16);
                    o2 = Vector512.Load(o + 32);
                    o3 = Vector512.Load(o + 48);
                    o4 = Vector512.Load(o + 64);
                    o5 = Vector512.Load(o + 80);
                    o6 = Vector512.Load(o + 96);
                    o7 = Vector512.Load(o + 112);
                }

                var rows = v + d;
                for (var p = 0; p < count; p++)
                {
                    var row = rows + (long)p * headDim;
                    var w = Vector512.Create(probs[p]);
                    o0 = Vector512.FusedMultiplyAdd(Vector512.Load(row), w, o0);
                    o1 = Vector512.FusedMultiplyAdd(Vector512.Load(row + 16), w, o1);
                    o2 = Vector512.FusedMultiplyAdd(Vector512.Load(row + 32), w, o2);
                    o3 = Vector512.FusedMultiplyAdd(Vector512.Load(row + 48), w, o3);
                    o4 = Vector512.FusedMultiplyAdd(Vector512.Load(row + 64), w, o4);
                    o5 = Vector512.FusedMultiplyAdd(Vector512.Load(row + 80), w, o5);
                    o6 = Vector512.FusedMultiplyAdd(Vector512.Load(row + 96), w, o6);
                    o7 = Vector512.FusedMultiplyAdd(Vector512.Load(row + 112), w, o7);
                }

                o0.Store(o);
                o1.Store(o + 16);
                o2.Store(o + 32);
                o3.Store(o + 48);
                o4.Store(o + 64);
                o5.Store(o + 80);
                o6.Store(o + 96);
                o7.Store(o + 112);
            }
        }

        for (; d + 64 <= headDim; d += 64)
        {
            var o = output + d;
            Vector256<float> o0 = default, o1 = default, o2 = default, o3 = default, o4 = default, o5 = default, o6 = default, o7 = default;
            if (!first)
            {
                o0 = Vector256.Load(o);
                o1 = Vector256.Load(o + 8);
                o2 = Vector256.Load(o + 16);
                o3 = Vector256.Load(o + 24);
                o4 = Vector256.Load(o + 32);
                o5 = Vector256.Load(o + 40);
                o6 = Vector256.Load(o + 48);
                o7 = Vector256.Load(o + 56);
            }

            var rows = v + d;
            for (var p = 0; p < count; p++)
            {
                var row = rows + (long)p * headDim;
                var w = Vector256.Create(probs[p]);
                o0 = Vector256.FusedMultiplyAdd(Vector256.Load(row), w, o0);
                o1 = Vector256.FusedMultiplyAdd(Vector256.Load(row + 8), w, o1);
                o2 = Vector256.FusedMultiplyAdd(Vector256.Load(row + 16), w, o2);
                o3 = Vector256.FusedMultiplyAdd(Vector256.Load(row + 24), w, o3);
                o4 = Vector256.FusedMultiplyAdd(Vector256.Load(row + 32), w, o4);
                o5 = Vector256.FusedMultiplyAdd(Vector256.Load(row + 40), w, o5);
                o6 = Vector256.FusedMultiplyAdd(Vector256.Load(row + 48), w, o6);
                o7 = Vector256.FusedMultiplyAdd(Vector256.Load(row + 56), w, o7);
            }

            o0.Store(o);
            o1.Store(o + 8);
            o2.Store(o + 16);
            o3.Store(o + 24);
            o4.Store(o + 32);
            o5.Store(o + 40);
            o6.Store(o + 48);
            o7.Store(o + 56);
        }

        // The last 16-48 dimensions of a head whose size is not a multiple of 64, two 8-float blocks per pass.
        for (; d < headDim; d += 16)
        {
            var o = output + d;
            var o0 = first ? default : Vector256.Load(o);
            var o1 = first ? default : Vector256.Load(o + 8);
            var rows = v + d;
            for (var p = 0; p < count; p++)
            {
                var row = rows + (long)p * headDim;
                var w = Vector256.Create(probs[p]);
                o0 = Vector256.FusedMultiplyAdd(Vector256.Load(row), w, o0);
                o1 = Vector256.FusedMultiplyAdd(Vector256.Load(row + 8), w, o1);
            }

            o0.Store(o);
            o1.Store(o + 8);
        }
    }
}
