using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using WrinkleFree.Inference.Tensors.Kernels.Scalar;

namespace WrinkleFree.Inference.Tensors.Kernels.Avx2;

// This namespace's name hides the X86 Avx2 class from code inside it; the alias brings the class back.
using Avx2 = System.Runtime.Intrinsics.X86.Avx2;

/// <summary>
/// 256-bit ternary kernels on natural-order activations: one 32-byte load is one I2_S block (or half a TQ2_0 block), and
/// the int8 products go through either vpmaddubsw+vpmaddwd (AVX2) or a single VEX vpdpbusd (AVX-VNNI).
/// </summary>
internal static unsafe class TernaryAvx2
{
    // 16 blocks × 4 planes × 2 products × 2 × 127 = 32512 < 32767: the sums stay in 16-bit lanes that long.
    private const int BlocksPer16BitRun = 16;

    // Rows per L2-resident block of the batched path (64 rows of 6912 columns = 110 KB).
    private const int RowBlock = 64;

    /// <summary>
    /// AVX2 I2_S: sums stay in 16-bit lanes for up to 16 blocks before one widening vpmaddwd (the per-block
    /// vpmaddubsw + vpmaddwd + add of <see cref="MaddUbs"/> was 40 operations per 256 weights; this is 32). Decode walks two
    /// rows side by side (<see cref="Decode"/>); batches share each block's unpacked codes among four tokens (prefill chunks,
    /// several sequences).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void I2S(in TernaryArgs a, int start, int end)
    {
        if (a.Batch == 1)
        {
            Decode(a, start, end, &I2SDot1x2, &I2SDot1);
            return;
        }

        Batched(a, start, end, &I2SDot4, &I2SDot1);
    }

    /// <summary>
    /// A batch (prefill chunks, several sequences): rows in blocks that stay in L2 with the token groups outermost inside a
    /// block, so a group's activations (4 × Columns bytes) stay in L1 while the block's rows pass, instead of every row
    /// re-reading all tokens' activations from L2; each row's codes are unpacked once per group of four tokens.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Batched(
        in TernaryArgs a,
        int start,
        int end,
        delegate*<byte*, int, sbyte*, int, out int, out int, out int, out int, void> quad,
        delegate*<byte*, int, sbyte*, int> single)
    {
        var rowBytes = a.Columns >> 2;
        var blocks = a.Columns >> 7;
        for (var first = start; first < end; first += RowBlock)
        {
            var last = Math.Min(end, first + RowBlock);
            var b = 0;
            for (; b + 4 <= a.Batch; b += 4)
            {
                var q = a.Q + (long)b * a.Stride;
                for (var r = first; r < last; r++)
                {
                    var scale = a.ScaleOf(r);
                    quad(a.Weights + (long)r * rowBytes, blocks, q, a.Stride, out var d0, out var d1, out var d2, out var d3);
                    a.Y[(long)b * a.Rows + r] = ScalarKernels.I2SOutput(d0, a.RowSum[b], a.ActScale[b], scale);
                    a.Y[(long)(b + 1) * a.Rows + r] = ScalarKernels.I2SOutput(d1, a.RowSum[b + 1], a.ActScale[b + 1], scale);
                    a.Y[(long)(b + 2) * a.Rows + r] = ScalarKernels.I2SOutput(d2, a.RowSum[b + 2], a.ActScale[b + 2], scale);
                    a.Y[(long)(b + 3) * a.Rows + r] = ScalarKernels.I2SOutput(d3, a.RowSum[b + 3], a.ActScale[b + 3], scale);
                }
            }

            for (; b < a.Batch; b++)
            {
                var q = a.Q + (long)b * a.Stride;
                for (var r = first; r < last; r++)
                {
                    a.Y[(long)b * a.Rows + r] = ScalarKernels.I2SOutput(single(a.Weights + (long)r * rowBytes, blocks, q), a.RowSum[b], a.ActScale[b], a.ScaleOf(r));
                }
            }
        }
    }

    /// <summary>Σ code·q of one I2_S row against one token (natural-order activations), in 16-bit runs.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static int I2SDot1(byte* row, int blocks, sbyte* q)
    {
        var mask = Vector256.Create((byte)3);
        var ones = Vector256.Create((short)1);
        var acc = Vector256<int>.Zero;
        var k = 0;
        while (k < blocks)
        {
            var stop = Math.Min(blocks, k + BlocksPer16BitRun);
            Vector256<short> s0 = default, s1 = default;
            for (; k < stop; k++)
            {
                var w = Vector256.Load(row + k * 32).AsUInt16();
                var p = q + k * 128;
                // Two chains so the adds do not wait on each other.
                s0 += Avx2.MultiplyAddAdjacent(Avx2.ShiftRightLogical(w, 6).AsByte() & mask, Vector256.Load(p))
                    + Avx2.MultiplyAddAdjacent(Avx2.ShiftRightLogical(w, 4).AsByte() & mask, Vector256.Load(p + 32));
                s1 += Avx2.MultiplyAddAdjacent(Avx2.ShiftRightLogical(w, 2).AsByte() & mask, Vector256.Load(p + 64))
                    + Avx2.MultiplyAddAdjacent(w.AsByte() & mask, Vector256.Load(p + 96));
            }

            acc += Avx2.MultiplyAddAdjacent(s0, ones) + Avx2.MultiplyAddAdjacent(s1, ones);
        }

        return Vector256.Sum(acc);
    }

    /// <summary>Σ code·q of two I2_S rows against one token, the rows' loads interleaved, in 16-bit runs.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void I2SDot1x2(byte* row0, byte* row1, int blocks, sbyte* q, out int d0, out int d1)
    {
        var mask = Vector256.Create((byte)3);
        var ones = Vector256.Create((short)1);
        Vector256<int> acc0 = default, acc1 = default;
        var k = 0;
        while (k < blocks)
        {
            var stop = Math.Min(blocks, k + BlocksPer16BitRun);
            Vector256<short> s0 = default, s1 = default;
            for (; k < stop; k++)
            {
                var p = q + k * 128;
                var w0 = Vector256.Load(row0 + k * 32).AsUInt16();
                var w1 = Vector256.Load(row1 + k * 32).AsUInt16();
                s0 += Block(Avx2.ShiftRightLogical(w0, 6).AsByte() & mask, Avx2.ShiftRightLogical(w0, 4).AsByte() & mask, Avx2.ShiftRightLogical(w0, 2).AsByte() & mask, w0.AsByte() & mask, p);
                s1 += Block(Avx2.ShiftRightLogical(w1, 6).AsByte() & mask, Avx2.ShiftRightLogical(w1, 4).AsByte() & mask, Avx2.ShiftRightLogical(w1, 2).AsByte() & mask, w1.AsByte() & mask, p);
            }

            acc0 += Avx2.MultiplyAddAdjacent(s0, ones);
            acc1 += Avx2.MultiplyAddAdjacent(s1, ones);
        }

        d0 = Vector256.Sum(acc0);
        d1 = Vector256.Sum(acc1);
    }

    /// <summary>
    /// The decode GEMV (one token): the range's two halves walked side by side, row start + i with row start + half + i,
    /// so each thread keeps two independent memory streams in flight (as the AVX-512 GEMV does); an odd last row alone.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Decode(
        in TernaryArgs a,
        int start,
        int end,
        delegate*<byte*, byte*, int, sbyte*, out int, out int, void> pair,
        delegate*<byte*, int, sbyte*, int> single)
    {
        var rowBytes = a.Columns >> 2;
        var blocks = a.Columns >> 7;
        var half = (end - start) / 2;
        for (var i = 0; i < half; i++)
        {
            var r0 = start + i;
            var r1 = start + half + i;
            pair(a.Weights + (long)r0 * rowBytes, a.Weights + (long)r1 * rowBytes, blocks, a.Q, out var d0, out var d1);
            a.Y[r0] = ScalarKernels.I2SOutput(d0, a.RowSum[0], a.ActScale[0], a.ScaleOf(r0));
            a.Y[r1] = ScalarKernels.I2SOutput(d1, a.RowSum[0], a.ActScale[0], a.ScaleOf(r1));
        }

        for (var r = start + 2 * half; r < end; r++)
        {
            a.Y[r] = ScalarKernels.I2SOutput(single(a.Weights + (long)r * rowBytes, blocks, a.Q), a.RowSum[0], a.ActScale[0], a.ScaleOf(r));
        }
    }

    /// <summary>One I2_S row against four tokens: each block's codes are unpacked once and used four times.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void I2SDot4(byte* row, int blocks, sbyte* q, int stride, out int d0, out int d1, out int d2, out int d3)
    {
        var mask = Vector256.Create((byte)3);
        var ones = Vector256.Create((short)1);
        Vector256<int> a0 = default, a1 = default, a2 = default, a3 = default;
        var k = 0;
        while (k < blocks)
        {
            var stop = Math.Min(blocks, k + BlocksPer16BitRun);
            Vector256<short> s0 = default, s1 = default, s2 = default, s3 = default;
            for (; k < stop; k++)
            {
                var w = Vector256.Load(row + k * 32).AsUInt16();
                var c0 = Avx2.ShiftRightLogical(w, 6).AsByte() & mask;
                var c1 = Avx2.ShiftRightLogical(w, 4).AsByte() & mask;
                var c2 = Avx2.ShiftRightLogical(w, 2).AsByte() & mask;
                var c3 = w.AsByte() & mask;
                var p = q + k * 128;
                s0 += Block(c0, c1, c2, c3, p);
                s1 += Block(c0, c1, c2, c3, p + stride);
                s2 += Block(c0, c1, c2, c3, p + 2 * stride);
                s3 += Block(c0, c1, c2, c3, p + 3 * stride);
            }

            a0 += Avx2.MultiplyAddAdjacent(s0, ones);
            a1 += Avx2.MultiplyAddAdjacent(s1, ones);
            a2 += Avx2.MultiplyAddAdjacent(s2, ones);
            a3 += Avx2.MultiplyAddAdjacent(s3, ones);
        }

        d0 = Vector256.Sum(a0);
        d1 = Vector256.Sum(a1);
        d2 = Vector256.Sum(a2);
        d3 = Vector256.Sum(a3);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<short> Block(Vector256<byte> c0, Vector256<byte> c1, Vector256<byte> c2, Vector256<byte> c3, sbyte* p) =>
        Avx2.MultiplyAddAdjacent(c0, Vector256.Load(p)) + Avx2.MultiplyAddAdjacent(c1, Vector256.Load(p + 32))
        + Avx2.MultiplyAddAdjacent(c2, Vector256.Load(p + 64)) + Avx2.MultiplyAddAdjacent(c3, Vector256.Load(p + 96));

    /// <summary>
    /// AVX-VNNI I2_S: the same walks as <see cref="I2S"/> with vpdpbusd loops that keep eight accumulator chains (in-place
    /// accumulation with fewer chains waits on its latency: two were slower than the AVX2 loop).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void I2SVnni(in TernaryArgs a, int start, int end)
    {
        if (a.Batch == 1)
        {
            Decode(a, start, end, &I2SVnniDot1x2, &I2SVnniDot1);
            return;
        }

        Batched(a, start, end, &I2SVnniDot4, &I2SVnniDot1);
    }

    /// <summary>
    /// One I2_S row against four tokens with vpdpbusd: each block's codes are unpacked once and used four times, two
    /// accumulators per token (planes 0-1 and 2-3) so eight chains keep the in-place accumulation off its latency.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void I2SVnniDot4(byte* row, int blocks, sbyte* q, int stride, out int d0, out int d1, out int d2, out int d3)
    {
        var mask = Vector256.Create((byte)3);
        Vector256<int> a0 = default, a1 = default, a2 = default, a3 = default;
        Vector256<int> b0 = default, b1 = default, b2 = default, b3 = default;
        for (var k = 0; k < blocks; k++)
        {
            var w = Vector256.Load(row + k * 32).AsUInt16();
            var c0 = Avx2.ShiftRightLogical(w, 6).AsByte() & mask;
            var c1 = Avx2.ShiftRightLogical(w, 4).AsByte() & mask;
            var p = q + k * 128;
            a0 = AvxVnni.MultiplyWideningAndAdd(AvxVnni.MultiplyWideningAndAdd(a0, c0, Vector256.Load(p)), c1, Vector256.Load(p + 32));
            a1 = AvxVnni.MultiplyWideningAndAdd(AvxVnni.MultiplyWideningAndAdd(a1, c0, Vector256.Load(p + stride)), c1, Vector256.Load(p + stride + 32));
            a2 = AvxVnni.MultiplyWideningAndAdd(AvxVnni.MultiplyWideningAndAdd(a2, c0, Vector256.Load(p + 2 * stride)), c1, Vector256.Load(p + 2 * stride + 32));
            a3 = AvxVnni.MultiplyWideningAndAdd(AvxVnni.MultiplyWideningAndAdd(a3, c0, Vector256.Load(p + 3 * stride)), c1, Vector256.Load(p + 3 * stride + 32));
            var c2 = Avx2.ShiftRightLogical(w, 2).AsByte() & mask;
            var c3 = w.AsByte() & mask;
            b0 = AvxVnni.MultiplyWideningAndAdd(AvxVnni.MultiplyWideningAndAdd(b0, c2, Vector256.Load(p + 64)), c3, Vector256.Load(p + 96));
            b1 = AvxVnni.MultiplyWideningAndAdd(AvxVnni.MultiplyWideningAndAdd(b1, c2, Vector256.Load(p + stride + 64)), c3, Vector256.Load(p + stride + 96));
            b2 = AvxVnni.MultiplyWideningAndAdd(AvxVnni.MultiplyWideningAndAdd(b2, c2, Vector256.Load(p + 2 * stride + 64)), c3, Vector256.Load(p + 2 * stride + 96));
            b3 = AvxVnni.MultiplyWideningAndAdd(AvxVnni.MultiplyWideningAndAdd(b3, c2, Vector256.Load(p + 3 * stride + 64)), c3, Vector256.Load(p + 3 * stride + 96));
        }

        d0 = Vector256.Sum(a0 + b0);
        d1 = Vector256.Sum(a1 + b1);
        d2 = Vector256.Sum(a2 + b2);
        d3 = Vector256.Sum(a3 + b3);
    }

    /// <summary>
    /// Σ code·q of two I2_S rows against one token with vpdpbusd, one accumulator per row and plane: eight independent
    /// chains, so the in-place accumulation is not bound by its latency.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void I2SVnniDot1x2(byte* row0, byte* row1, int blocks, sbyte* q, out int d0, out int d1)
    {
        var mask = Vector256.Create((byte)3);
        Vector256<int> a0 = default, a1 = default, a2 = default, a3 = default;
        Vector256<int> b0 = default, b1 = default, b2 = default, b3 = default;
        for (var k = 0; k < blocks; k++)
        {
            var p = q + k * 128;
            var w0 = Vector256.Load(row0 + k * 32).AsUInt16();
            var w1 = Vector256.Load(row1 + k * 32).AsUInt16();
            var q0 = Vector256.Load(p);
            a0 = AvxVnni.MultiplyWideningAndAdd(a0, Avx2.ShiftRightLogical(w0, 6).AsByte() & mask, q0);
            b0 = AvxVnni.MultiplyWideningAndAdd(b0, Avx2.ShiftRightLogical(w1, 6).AsByte() & mask, q0);
            var q1 = Vector256.Load(p + 32);
            a1 = AvxVnni.MultiplyWideningAndAdd(a1, Avx2.ShiftRightLogical(w0, 4).AsByte() & mask, q1);
            b1 = AvxVnni.MultiplyWideningAndAdd(b1, Avx2.ShiftRightLogical(w1, 4).AsByte() & mask, q1);
            var q2 = Vector256.Load(p + 64);
            a2 = AvxVnni.MultiplyWideningAndAdd(a2, Avx2.ShiftRightLogical(w0, 2).AsByte() & mask, q2);
            b2 = AvxVnni.MultiplyWideningAndAdd(b2, Avx2.ShiftRightLogical(w1, 2).AsByte() & mask, q2);
            var q3 = Vector256.Load(p + 96);
            a3 = AvxVnni.MultiplyWideningAndAdd(a3, w0.AsByte() & mask, q3);
            b3 = AvxVnni.MultiplyWideningAndAdd(b3, w1.AsByte() & mask, q3);
        }

        d0 = Vector256.Sum(a0 + a1 + a2 + a3);
        d1 = Vector256.Sum(b0 + b1 + b2 + b3);
    }

    /// <summary>Σ code·q of one I2_S row against one token with vpdpbusd, four chains (the odd last row of a decode range).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int I2SVnniDot1(byte* row, int blocks, sbyte* q)
    {
        var mask = Vector256.Create((byte)3);
        Vector256<int> a0 = default, a1 = default, a2 = default, a3 = default;
        for (var k = 0; k < blocks; k++)
        {
            var p = q + k * 128;
            var w = Vector256.Load(row + k * 32).AsUInt16();
            a0 = AvxVnni.MultiplyWideningAndAdd(a0, Avx2.ShiftRightLogical(w, 6).AsByte() & mask, Vector256.Load(p));
            a1 = AvxVnni.MultiplyWideningAndAdd(a1, Avx2.ShiftRightLogical(w, 4).AsByte() & mask, Vector256.Load(p + 32));
            a2 = AvxVnni.MultiplyWideningAndAdd(a2, Avx2.ShiftRightLogical(w, 2).AsByte() & mask, Vector256.Load(p + 64));
            a3 = AvxVnni.MultiplyWideningAndAdd(a3, w.AsByte() & mask, Vector256.Load(p + 96));
        }

        return Vector256.Sum(a0 + a1 + a2 + a3);
    }

    public static void TQ2(in TernaryArgs a, int start, int end) => TQ2Core<MaddUbs>(a, start, end);

    public static void TQ2Vnni(in TernaryArgs a, int start, int end) => TQ2Core<Vnni>(a, start, end);

    /// <summary>Σ code·q over one 128-value I2_S block (the odd block after the 256-value chunks of the AVX-512 path).</summary>
    internal static int I2STail(byte* block, sbyte* q) => Vector256.Sum(I2SBlock<MaddUbs>(Vector256<int>.Zero, block, q));

    /// <summary>
    /// (Σ_k d_k·Σ code·q − Σ_k d_k·Σ q) · act_scale, the output of the TQ2_0/TQ1_0 kernels (AVX2 and AVX-512): the q sums
    /// are precomputed per block, so codes need no −1.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float BlockedOutput(float codeDot, float* d, in TernaryArgs a, int b)
    {
        var sums = a.BlockSum + b * a.Blocks;
        var correction = 0f;
        for (var k = 0; k < a.Columns >> 8; k++)
        {
            correction += d[k] * sums[k];
        }

        return (codeDot - correction) * a.ActScale[b];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> I2SBlock<TDot>(Vector256<int> acc, byte* block, sbyte* q)
        where TDot : struct, IByteDot
    {
        var mask = Vector256.Create((byte)3);
        var w = Vector256.Load(block).AsUInt16();
        acc = TDot.Add(acc, Avx2.ShiftRightLogical(w, 6).AsByte() & mask, Vector256.Load(q));
        acc = TDot.Add(acc, Avx2.ShiftRightLogical(w, 4).AsByte() & mask, Vector256.Load(q + 32));
        acc = TDot.Add(acc, Avx2.ShiftRightLogical(w, 2).AsByte() & mask, Vector256.Load(q + 64));
        return TDot.Add(acc, w.AsByte() & mask, Vector256.Load(q + 96));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TQ2Core<TDot>(in TernaryArgs a, int start, int end)
        where TDot : struct, IByteDot
    {
        var blocks = a.Columns >> 8;
        var rowBytes = blocks * BlockDecoders.TQ2BlockBytes;
        var scales = blocks <= 256 ? stackalloc float[blocks] : new float[blocks];
        var mask = Vector256.Create((byte)3);
        fixed (float* d = scales)
        {
            for (var r = start; r < end; r++)
            {
                var row = a.Weights + (long)r * rowBytes;
                BlockDecoders.Halves(row + 64, BlockDecoders.TQ2BlockBytes, blocks, d);

                for (var b = 0; b < a.Batch; b++)
                {
                    var q = a.Q + (long)b * a.Stride;
                    var acc = Vector256<float>.Zero;
                    for (var k = 0; k < blocks; k++)
                    {
                        var block = row + k * BlockDecoders.TQ2BlockBytes;
                        var p = q + k * 256;
                        var dot = Vector256<int>.Zero;
                        for (var half = 0; half < 2; half++)
                        {
                            var w = Vector256.Load(block + half * 32).AsUInt16();
                            var ph = p + half * 128;
                            dot = TDot.Add(dot, w.AsByte() & mask, Vector256.Load(ph));
                            dot = TDot.Add(dot, Avx2.ShiftRightLogical(w, 2).AsByte() & mask, Vector256.Load(ph + 32));
                            dot = TDot.Add(dot, Avx2.ShiftRightLogical(w, 4).AsByte() & mask, Vector256.Load(ph + 64));
                            dot = TDot.Add(dot, Avx2.ShiftRightLogical(w, 6).AsByte() & mask, Vector256.Load(ph + 96));
                        }

                        acc = Fma.MultiplyAdd(Avx.ConvertToVector256Single(dot), Vector256.Create(d[k]), acc);
                    }

                    a.Y[(long)b * a.Rows + r] = BlockedOutput(Vector256.Sum(acc), d, a, b);
                }
            }
        }
    }
}
