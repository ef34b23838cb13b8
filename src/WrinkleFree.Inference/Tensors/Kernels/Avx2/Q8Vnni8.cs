using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace WrinkleFree.Inference.Tensors.Kernels.Avx2;

/// <summary>
/// Q8_0 × Q8_0-activations on a <see cref="Q8Interleaved"/> copy with AVX-VNNI: each vpdpbusd multiplies four values of
/// eight rows by the same four activation bytes (broadcast from memory) and adds into the eight rows' int32 block sums,
/// so a block costs eight vpdpbusd, one conversion, one scale product and one FMA per token for eight rows (256 MACs),
/// against about 40 operations per 512 MACs for the sign-and-vpmaddubsw form. Weights are reused from L1 across tokens:
/// a group's rows (8 × columns bytes) are walked once per four tokens.
/// </summary>
/// <remarks>
/// Work items are groups of eight rows, not rows: <c>start</c>/<c>end</c> index <see cref="Q8Interleaved.Groups"/>.
/// The int32 block sums are exact (Σ w·q, as the scalar reference forms them) and each row accumulates
/// sum·(d_w·d_x) block by block in order, as the scalar reference does, with an FMA.
/// </remarks>
internal static unsafe class Q8Vnni8
{
    private const int BlockBytes = Q8Interleaved.BlockBytes;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Multiply(in DenseArgs a, int start, int end)
    {
        var blocks = a.Columns >> 5;
        if (a.Batch == 1 && end - start >= 2)
        {
            // One token (decode): the range's two halves side by side, groups start + i and start + half + i, two memory
            // streams per thread as in the ternary GEMV; an odd last group goes through the loop below.
            var half = (end - start) / 2;
            for (var i = 0; i < half; i++)
            {
                Token2(a, blocks, start + i, start + half + i);
            }

            start += 2 * half;
        }

        for (var g = start; g < end; g++)
        {
            var w = a.Weights + (long)g * a.WeightStride;
            var rows = Math.Min(8, a.Rows - g * 8);
            var t = 0;
            if (a.Batch >= 4 && g + 1 < end && a.Rows - g * 8 >= 16)
            {
                // Two groups at once: each broadcast activation word feeds both groups' vpdpbusd.
                // The first token tile also prefetches the next pair into L2: measured in the model (profile, paired
                // rounds), the 4-sequence head 20-30 % and the 16-sequence head 10-15 % faster.
                var next = g + 3 < end ? w + 2 * a.WeightStride : null;
                if (Vector512.IsHardwareAccelerated)
                {
                    // Six-token tiles while at least ten tokens (or exactly six) are left, so what remains splits into fours.
                    for (; a.Batch - t >= 10 || a.Batch - t == 6; t += 6)
                    {
                        Tile16x6(a, w, blocks, t, g, t == 0 ? next : null);
                    }
                }

                for (; t + 4 <= a.Batch; t += 4)
                {
                    Tile16x4(a, w, blocks, t, g, t == 0 ? next : null);
                }

                for (; t < a.Batch; t++)
                {
                    Token(a, w, blocks, t, g, 8);
                    Token(a, w + a.WeightStride, blocks, t, g + 1, 8);
                }

                g++;
                continue;
            }

            for (; t + 4 <= a.Batch; t += 4)
            {
                Tile4(a, w, blocks, t, g, rows);
            }

            for (; t < a.Batch; t++)
            {
                Token(a, w, blocks, t, g, rows);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Token(in DenseArgs a, byte* w, int blocks, int t, int g, int rows)
    {
        var q = a.Q8 + (long)t * a.Q8Stride;
        var s = a.Q8Sums + t * a.Q8Blocks;
        var xs = a.Q8Scale + t * a.Q8Blocks;
        var acc = Vector256<float>.Zero;
        for (var b = 0; b < blocks; b++)
        {
            var sum = BlockSum(w + b * BlockBytes, (int*)(q + b * 32), s[b]);
            acc = Fma.MultiplyAdd(Avx.ConvertToVector256Single(sum), Scales(w, b) * Vector256.Create(xs[b]), acc);
        }

        Q8Interleaved.StoreGroup(acc, a.Y + (long)t * a.Rows + g * 8, rows);
    }

    /// <summary>Groups <paramref name="g0"/> and <paramref name="g1"/> against token 0, block by block side by side (the same values as <see cref="Token"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Token2(in DenseArgs a, int blocks, int g0, int g1)
    {
        var w0 = a.Weights + (long)g0 * a.WeightStride;
        var w1 = a.Weights + (long)g1 * a.WeightStride;
        var q = a.Q8;
        var s = a.Q8Sums;
        var xs = a.Q8Scale;
        var acc0 = Vector256<float>.Zero;
        var acc1 = Vector256<float>.Zero;
        for (var b = 0; b < blocks; b++)
        {
            var x = Vector256.Create(xs[b]);
            var sum0 = BlockSum(w0 + b * BlockBytes, (int*)(q + b * 32), s[b]);
            var sum1 = BlockSum(w1 + b * BlockBytes, (int*)(q + b * 32), s[b]);
            acc0 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(sum0), Scales(w0, b) * x, acc0);
            acc1 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(sum1), Scales(w1, b) * x, acc1);
        }

        Q8Interleaved.StoreGroup(acc0, a.Y + g0 * 8, a.Rows - g0 * 8);
        Q8Interleaved.StoreGroup(acc1, a.Y + g1 * 8, a.Rows - g1 * 8);
    }

    /// <summary>
    /// Sixteen rows (groups g and g + 1, both full) × four tokens; each activation word is broadcast once for both groups.
    /// With <paramref name="next"/> set, the following pair of groups is prefetched into L2 block by block: the hardware
    /// prefetcher alone left the first pass over each pair waiting on memory.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile16x4(in DenseArgs a, byte* w, int blocks, int t, int g, byte* next)
    {
        var q0 = a.Q8 + (long)t * a.Q8Stride;
        var qs = a.Q8Stride;
        var s0 = a.Q8Sums + t * a.Q8Blocks;
        var x0 = a.Q8Scale + t * a.Q8Blocks;
        var n = a.Q8Blocks;
        var w1 = w + a.WeightStride;
        Vector256<float> f00 = default, f01 = default, f02 = default, f03 = default, f10 = default, f11 = default, f12 = default, f13 = default;
        // With 512-bit vectors and eight or more tokens, each token's sixteen rows share one conversion, one scale product and
        // one FMA (lanes 0-7 group g, 8-15 group g + 1, the same values as the 256-bit form). Measured (kernels, 32768-row
        // head, 1 thread, alternating builds): 16 tokens 2-5 % and 64 tokens 7-13 % faster; 4 tokens 3-5 % slower, so
        // four tokens keep the 256-bit form.
        var wide = Vector512.IsHardwareAccelerated && a.Batch >= 8;
        Vector512<float> h0 = default, h1 = default, h2 = default, h3 = default;
        for (var b = 0; b < blocks; b++)
        {
            var p0 = w + b * BlockBytes;
            var p1 = w1 + b * BlockBytes;
            PrefetchPair(next, b);

            var c0 = Vector256.Create(s0[b]);
            var c1 = Vector256.Create(s0[n + b]);
            var c2 = Vector256.Create(s0[2 * n + b]);
            var c3 = Vector256.Create(s0[3 * n + b]);
            Vector256<int> i00 = c0, i01 = c1, i02 = c2, i03 = c3, i10 = c0, i11 = c1, i12 = c2, i13 = c3;
            var q = q0 + b * 32;
            // Unrolled by hand (the JIT keeps an 8-iteration loop): measured in one process, interleaved rounds, the 16 x 4
            // tile 9-28 % faster from cache; the in-model 16-sequence head (profile) did not move.
            Quad(p0, p1, q, qs, 0, ref i00, ref i01, ref i02, ref i03, ref i10, ref i11, ref i12, ref i13);
            Quad(p0, p1, q, qs, 1, ref i00, ref i01, ref i02, ref i03, ref i10, ref i11, ref i12, ref i13);
            Quad(p0, p1, q, qs, 2, ref i00, ref i01, ref i02, ref i03, ref i10, ref i11, ref i12, ref i13);
            Quad(p0, p1, q, qs, 3, ref i00, ref i01, ref i02, ref i03, ref i10, ref i11, ref i12, ref i13);
            Quad(p0, p1, q, qs, 4, ref i00, ref i01, ref i02, ref i03, ref i10, ref i11, ref i12, ref i13);
            Quad(p0, p1, q, qs, 5, ref i00, ref i01, ref i02, ref i03, ref i10, ref i11, ref i12, ref i13);
            Quad(p0, p1, q, qs, 6, ref i00, ref i01, ref i02, ref i03, ref i10, ref i11, ref i12, ref i13);
            Quad(p0, p1, q, qs, 7, ref i00, ref i01, ref i02, ref i03, ref i10, ref i11, ref i12, ref i13);

            if (wide)
            {
                var dw = Avx512F.InsertVector256(Scales(w, b).ToVector512Unsafe(), Scales(w1, b), 1);
                h0 = Wide(i00, i10, dw, x0[b], h0);
                h1 = Wide(i01, i11, dw, x0[n + b], h1);
                h2 = Wide(i02, i12, dw, x0[2 * n + b], h2);
                h3 = Wide(i03, i13, dw, x0[3 * n + b], h3);
            }
            else
            {
                var dw0 = Scales(w, b);
                var dw1 = Scales(w1, b);
                var e0 = Vector256.Create(x0[b]);
                var e1 = Vector256.Create(x0[n + b]);
                var e2 = Vector256.Create(x0[2 * n + b]);
                var e3 = Vector256.Create(x0[3 * n + b]);
                f00 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(i00), dw0 * e0, f00);
                f01 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(i01), dw0 * e1, f01);
                f02 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(i02), dw0 * e2, f02);
                f03 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(i03), dw0 * e3, f03);
                f10 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(i10), dw1 * e0, f10);
                f11 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(i11), dw1 * e1, f11);
                f12 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(i12), dw1 * e2, f12);
                f13 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(i13), dw1 * e3, f13);
            }
        }

        var y = a.Y + (long)t * a.Rows + g * 8;
        if (wide)
        {
            h0.Store(y);
            h1.Store(y + a.Rows);
            h2.Store(y + 2L * a.Rows);
            h3.Store(y + 3L * a.Rows);
            return;
        }

        f00.Store(y);
        f10.Store(y + 8);
        f01.Store(y + a.Rows);
        f11.Store(y + a.Rows + 8);
        f02.Store(y + 2L * a.Rows);
        f12.Store(y + 2L * a.Rows + 8);
        f03.Store(y + 3L * a.Rows);
        f13.Store(y + 3L * a.Rows + 8);
    }

    /// <summary>
    /// Sixteen rows (groups g and g + 1, both full) × six tokens, on AVX-512 hosts: twelve vpdpbusd chains where the 16 × 4
    /// tile has eight, and each group pair's weights pass through the core once per six tokens instead of four. The twelve
    /// int32 sums, the two weight chunks and a broadcast fill fifteen of the sixteen registers a VEX vpdpbusd can name; the
    /// six float sums (512-bit, groups g and g + 1 in one vector) live in zmm16-31.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile16x6(in DenseArgs a, byte* w, int blocks, int t, int g, byte* next)
    {
        var q0 = a.Q8 + (long)t * a.Q8Stride;
        var qs = a.Q8Stride;
        var s0 = a.Q8Sums + t * a.Q8Blocks;
        var x0 = a.Q8Scale + t * a.Q8Blocks;
        var n = a.Q8Blocks;
        var w1 = w + a.WeightStride;
        Vector512<float> h0 = default, h1 = default, h2 = default, h3 = default, h4 = default, h5 = default;
        for (var b = 0; b < blocks; b++)
        {
            var p0 = w + b * BlockBytes;
            var p1 = w1 + b * BlockBytes;
            PrefetchPair(next, b);

            Vector256<int> i00 = Vector256.Create(s0[b]), i01 = Vector256.Create(s0[n + b]), i02 = Vector256.Create(s0[2 * n + b]);
            Vector256<int> i03 = Vector256.Create(s0[3 * n + b]), i04 = Vector256.Create(s0[4 * n + b]), i05 = Vector256.Create(s0[5 * n + b]);
            Vector256<int> i10 = i00, i11 = i01, i12 = i02, i13 = i03, i14 = i04, i15 = i05;
            var q = q0 + b * 32;
            // A loop: unrolled by hand (as the 16 x 4 tile is) it was no faster in the model (profile, three pairs).
            for (var k = 0; k < 8; k++)
            {
                var v0 = Vector256.Load(p0 + k * 32);
                var v1 = Vector256.Load(p1 + k * 32);
                var x = q + k * 4;
                var a0 = Vector256.Create(*(int*)x).AsSByte();
                i00 = AvxVnni.MultiplyWideningAndAdd(i00, v0, a0);
                i10 = AvxVnni.MultiplyWideningAndAdd(i10, v1, a0);
                a0 = Vector256.Create(*(int*)(x + qs)).AsSByte();
                i01 = AvxVnni.MultiplyWideningAndAdd(i01, v0, a0);
                i11 = AvxVnni.MultiplyWideningAndAdd(i11, v1, a0);
                a0 = Vector256.Create(*(int*)(x + 2 * qs)).AsSByte();
                i02 = AvxVnni.MultiplyWideningAndAdd(i02, v0, a0);
                i12 = AvxVnni.MultiplyWideningAndAdd(i12, v1, a0);
                a0 = Vector256.Create(*(int*)(x + 3 * qs)).AsSByte();
                i03 = AvxVnni.MultiplyWideningAndAdd(i03, v0, a0);
                i13 = AvxVnni.MultiplyWideningAndAdd(i13, v1, a0);
                a0 = Vector256.Create(*(int*)(x + 4 * qs)).AsSByte();
                i04 = AvxVnni.MultiplyWideningAndAdd(i04, v0, a0);
                i14 = AvxVnni.MultiplyWideningAndAdd(i14, v1, a0);
                a0 = Vector256.Create(*(int*)(x + 5 * qs)).AsSByte();
                i05 = AvxVnni.MultiplyWideningAndAdd(i05, v0, a0);
                i15 = AvxVnni.MultiplyWideningAndAdd(i15, v1, a0);
            }

            var dw = Avx512F.InsertVector256(Scales(w, b).ToVector512Unsafe(), Scales(w1, b), 1);
            h0 = Wide(i00, i10, dw, x0[b], h0);
            h1 = Wide(i01, i11, dw, x0[n + b], h1);
            h2 = Wide(i02, i12, dw, x0[2 * n + b], h2);
            h3 = Wide(i03, i13, dw, x0[3 * n + b], h3);
            h4 = Wide(i04, i14, dw, x0[4 * n + b], h4);
            h5 = Wide(i05, i15, dw, x0[5 * n + b], h5);
        }

        var y = a.Y + (long)t * a.Rows + g * 8;
        h0.Store(y);
        h1.Store(y + a.Rows);
        h2.Store(y + 2L * a.Rows);
        h3.Store(y + 3L * a.Rows);
        h4.Store(y + 4L * a.Rows);
        h5.Store(y + 5L * a.Rows);
    }

    /// <summary>Eight rows × four tokens: the block's eight weight chunks are loaded once for the four tokens.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile4(in DenseArgs a, byte* w, int blocks, int t, int g, int rows)
    {
        var q0 = a.Q8 + (long)t * a.Q8Stride;
        var q1 = q0 + a.Q8Stride;
        var q2 = q1 + a.Q8Stride;
        var q3 = q2 + a.Q8Stride;
        var s0 = a.Q8Sums + t * a.Q8Blocks;
        var x0 = a.Q8Scale + t * a.Q8Blocks;
        var n = a.Q8Blocks;
        Vector256<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default;
        for (var b = 0; b < blocks; b++)
        {
            var p = w + b * BlockBytes;
            var dw = Scales(w, b);
            var o = b * 32;
            acc0 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(BlockSum(p, (int*)(q0 + o), s0[b])), dw * Vector256.Create(x0[b]), acc0);
            acc1 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(BlockSum(p, (int*)(q1 + o), s0[n + b])), dw * Vector256.Create(x0[n + b]), acc1);
            acc2 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(BlockSum(p, (int*)(q2 + o), s0[2 * n + b])), dw * Vector256.Create(x0[2 * n + b]), acc2);
            acc3 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(BlockSum(p, (int*)(q3 + o), s0[3 * n + b])), dw * Vector256.Create(x0[3 * n + b]), acc3);
        }

        var y = a.Y + (long)t * a.Rows + g * 8;
        Q8Interleaved.StoreGroup(acc0, y, rows);
        Q8Interleaved.StoreGroup(acc1, y + a.Rows, rows);
        Q8Interleaved.StoreGroup(acc2, y + 2L * a.Rows, rows);
        Q8Interleaved.StoreGroup(acc3, y + 3L * a.Rows, rows);
    }

    /// <summary>
    /// The eight rows' exact int32 sums Σ w·q of one block: eight vpdpbusd over the block's chunks, in two chains (so the
    /// adds do not wait on each other's latency) started at −128·Σq and zero.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> BlockSum(byte* p, int* q, int correction)
    {
        var even = Vector256.Create(correction);
        var odd = Vector256<int>.Zero;
        even = AvxVnni.MultiplyWideningAndAdd(even, Vector256.Load(p), Vector256.Create(q[0]).AsSByte());
        odd = AvxVnni.MultiplyWideningAndAdd(odd, Vector256.Load(p + 32), Vector256.Create(q[1]).AsSByte());
        even = AvxVnni.MultiplyWideningAndAdd(even, Vector256.Load(p + 64), Vector256.Create(q[2]).AsSByte());
        odd = AvxVnni.MultiplyWideningAndAdd(odd, Vector256.Load(p + 96), Vector256.Create(q[3]).AsSByte());
        even = AvxVnni.MultiplyWideningAndAdd(even, Vector256.Load(p + 128), Vector256.Create(q[4]).AsSByte());
        odd = AvxVnni.MultiplyWideningAndAdd(odd, Vector256.Load(p + 160), Vector256.Create(q[5]).AsSByte());
        even = AvxVnni.MultiplyWideningAndAdd(even, Vector256.Load(p + 192), Vector256.Create(q[6]).AsSByte());
        odd = AvxVnni.MultiplyWideningAndAdd(odd, Vector256.Load(p + 224), Vector256.Create(q[7]).AsSByte());
        return even + odd;
    }

    /// <summary>Chunk k of both groups against the four tokens' activation word k.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Quad(
        byte* p0, byte* p1, sbyte* q, int qs, int k,
        ref Vector256<int> i00, ref Vector256<int> i01, ref Vector256<int> i02, ref Vector256<int> i03,
        ref Vector256<int> i10, ref Vector256<int> i11, ref Vector256<int> i12, ref Vector256<int> i13)
    {
        var v0 = Vector256.Load(p0 + k * 32);
        var v1 = Vector256.Load(p1 + k * 32);
        var a0 = Vector256.Create(*(int*)(q + k * 4)).AsSByte();
        i00 = AvxVnni.MultiplyWideningAndAdd(i00, v0, a0);
        i10 = AvxVnni.MultiplyWideningAndAdd(i10, v1, a0);
        var a1 = Vector256.Create(*(int*)(q + qs + k * 4)).AsSByte();
        i01 = AvxVnni.MultiplyWideningAndAdd(i01, v0, a1);
        i11 = AvxVnni.MultiplyWideningAndAdd(i11, v1, a1);
        var a2 = Vector256.Create(*(int*)(q + 2 * qs + k * 4)).AsSByte();
        i02 = AvxVnni.MultiplyWideningAndAdd(i02, v0, a2);
        i12 = AvxVnni.MultiplyWideningAndAdd(i12, v1, a2);
        var a3 = Vector256.Create(*(int*)(q + 3 * qs + k * 4)).AsSByte();
        i03 = AvxVnni.MultiplyWideningAndAdd(i03, v0, a3);
        i13 = AvxVnni.MultiplyWideningAndAdd(i13, v1, a3);
    }

    /// <summary>With <paramref name="next"/> set, the next group pair's block b (2 × 288 contiguous bytes) into L2 while this pair computes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PrefetchPair(byte* next, int b)
    {
        if (next == null)
        {
            return;
        }

        var n0 = next + b * 2 * BlockBytes;
        for (var o = 0; o < 2 * BlockBytes; o += 64)
        {
            Sse.Prefetch1(n0 + o);
        }
    }

    /// <summary>
    /// One token's block sums of both groups (<paramref name="lower"/>: group g, <paramref name="upper"/>: g + 1) scaled
    /// and added to its 16-row float sums: one conversion, product and FMA on 512 bits. InsertVector256 on a widened
    /// vector is one vinsert, where Vector512.Create(lower, upper) gave two.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Wide(Vector256<int> lower, Vector256<int> upper, Vector512<float> dw, float x, Vector512<float> sum) =>
        Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(Avx512F.InsertVector256(lower.ToVector512Unsafe(), upper, 1)), dw * Vector512.Create(x), sum);

    /// <summary>The eight rows' float scales of block <paramref name="b"/> of a group.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Scales(byte* group, int b) => Vector256.Load((float*)(group + b * BlockBytes + Q8Interleaved.ScaleOffset));
}
