using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace WrinkleFree.Inference.Models;

/// <summary>
/// Causal attention's two products over one page of a KV head's cached rows, converted to floats
/// (<see cref="ModelRunner.AttentionWork"/> converts each page once for all the query heads that share the KV head).
/// </summary>
/// <remarks>
/// The per-position form (<see cref="HotMath.Dot"/> of the query with each key, then <see cref="HotMath.AddScaled"/> of each
/// value into the output) ran two dependent FMA chains per key and loaded and stored the whole output for every value:
/// about 145 cycles per (position, head), which at 16 sequences and a 48-80 token context made attention 12 of 88 ms a
/// step. Here four keys are dotted at once (eight independent chains), and the output stays in registers across a
/// page's positions, 64 dimensions per pass: 6.6 against 12.1 ms in the same process (2 threads, 2B4T shape). What was
/// left was mostly reading the float32 cache from memory (about 24 GB/s in that phase); the cache now holds half
/// precision. Every score and output element is computed with the same operations in the same order as the per-position form (two 8-lane FMA chains over alternate 8-float blocks, then <see cref="Vector256.Sum"/>;
/// outputs as one FMA per position in position order from zero), so the results are bit-identical to it, which the tests
/// check. Head sizes that are not a multiple of 16, and hosts without 256-bit vectors, keep the per-position form.
/// </remarks>
internal static unsafe class AttentionKernel
{
    /// <summary>Whether <see cref="Scores"/> and <see cref="Mix"/> handle heads of <paramref name="headDim"/> floats.</summary>
    public static bool Supports(int headDim) => Vector256.IsHardwareAccelerated && headDim >= 16 && headDim % 16 == 0;

    /// <summary>scores[p] = (q · K_p) · scale for p in [0, count), K_p the p-th row of <paramref name="headDim"/> floats at <paramref name="k"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Scores(float* q, float* k, int headDim, int count, float scale, float* s)
    {
        var p = 0;
        for (; p + 4 <= count; p += 4)
        {
            var k0 = k + (long)p * headDim;
            var k1 = k0 + headDim;
            var k2 = k1 + headDim;
            var k3 = k2 + headDim;
            Vector256<float> a0 = default, b0 = default, a1 = default, b1 = default, a2 = default, b2 = default, a3 = default, b3 = default;
            for (var i = 0; i < headDim; i += 16)
            {
                var qa = Vector256.Load(q + i);
                var qb = Vector256.Load(q + i + 8);
                a0 = Vector256.FusedMultiplyAdd(qa, Vector256.Load(k0 + i), a0);
                b0 = Vector256.FusedMultiplyAdd(qb, Vector256.Load(k0 + i + 8), b0);
                a1 = Vector256.FusedMultiplyAdd(qa, Vector256.Load(k1 + i), a1);
                b1 = Vector256.FusedMultiplyAdd(qb, Vector256.Load(k1 + i + 8), b1);
                a2 = Vector256.FusedMultiplyAdd(qa, Vector256.Load(k2 + i), a2);
                b2 = Vector256.FusedMultiplyAdd(qb, Vector256.Load(k2 + i + 8), b2);
                a3 = Vector256.FusedMultiplyAdd(qa, Vector256.Load(k3 + i), a3);
                b3 = Vector256.FusedMultiplyAdd(qb, Vector256.Load(k3 + i + 8), b3);
            }

            s[p] = Vector256.Sum(a0 + b0) * scale;
            s[p + 1] = Vector256.Sum(a1 + b1) * scale;
            s[p + 2] = Vector256.Sum(a2 + b2) * scale;
            s[p + 3] = Vector256.Sum(a3 + b3) * scale;
        }

        for (; p < count; p++)
        {
            var k0 = k + (long)p * headDim;
            Vector256<float> a0 = default, b0 = default;
            for (var i = 0; i < headDim; i += 16)
            {
                a0 = Vector256.FusedMultiplyAdd(Vector256.Load(q + i), Vector256.Load(k0 + i), a0);
                b0 = Vector256.FusedMultiplyAdd(Vector256.Load(q + i + 8), Vector256.Load(k0 + i + 8), b0);
            }

            s[p] = Vector256.Sum(a0 + b0) * scale;
        }
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
