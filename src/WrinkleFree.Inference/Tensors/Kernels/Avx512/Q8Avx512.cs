using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace WrinkleFree.Inference.Tensors.Kernels.Avx512;

// The sibling namespace Kernels.Avx2 hides the X86 Avx2 class from code here; the alias brings the class back.
using Avx2 = System.Runtime.Intrinsics.X86.Avx2;

/// <summary>
/// Q8_0 × Q8_0-activations on a <see cref="Q8Repack"/> (aligned int8 rows, float block scales), two 32-value blocks per
/// 512-bit vector. AVX-512 has no vpsignb, so the weight signs move onto the activations with a masked negate; |w| × ±q
/// then fits vpmaddubsw (127·127·2 &lt; 32767). The per-block scales d_w and d_x are expanded to 8 lanes each with one
/// permute and multiplied in registers.
/// </summary>
internal static unsafe class Q8Avx512
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Multiply(in DenseArgs a, int start, int end)
    {
        var blocks = a.Columns >> 5;
        var r = start;
        if (a.Batch == 1 && end - start >= 2)
        {
            // One token (decode): the range's two halves side by side, rows start + i and start + half + i, so each
            // thread keeps two memory streams in flight and the activation side (load, negate, scale expansion) serves
            // both rows, as in the ternary GEMV.
            var half = (end - start) / 2;
            for (var i = 0; i < half; i++)
            {
                var r0 = start + i;
                var r1 = start + half + i;
                Row2(a.Weights + (long)r0 * a.WeightStride, a.Weights + (long)r1 * a.WeightStride, blocks, a.WeightScales + (long)r0 * blocks, a.WeightScales + (long)r1 * blocks, a.Q8Scale, a.Q8, out a.Y[r0], out a.Y[r1]);
            }

            r = start + 2 * half;
        }
        else if (a.Batch >= 4)
        {
            // Pairs of rows: each activation load and scale expansion serves both rows.
            for (; r + 2 <= end; r += 2)
            {
                var row0 = a.Weights + (long)r * a.WeightStride;
                var row1 = row0 + a.WeightStride;
                var d0 = a.WeightScales + (long)r * blocks;
                var d1 = d0 + blocks;
                var b = 0;
                for (; b + 4 <= a.Batch; b += 4)
                {
                    Tile2x4(a, row0, row1, blocks, d0, d1, r, b);
                }

                for (; b < a.Batch; b++)
                {
                    var xs = a.Q8Scale + b * a.Q8Blocks;
                    var q = a.Q8 + (long)b * a.Q8Stride;
                    a.Y[(long)b * a.Rows + r] = Row1(row0, blocks, d0, xs, q);
                    a.Y[(long)b * a.Rows + r + 1] = Row1(row1, blocks, d1, xs, q);
                }
            }
        }

        for (; r < end; r++)
        {
            var row = a.Weights + (long)r * a.WeightStride;
            var d = a.WeightScales + (long)r * blocks;
            var b = 0;
            for (; b + 4 <= a.Batch; b += 4)
            {
                Row4(row, blocks, d, a.Q8Scale + b * a.Q8Blocks, a.Q8Blocks, a.Q8 + (long)b * a.Q8Stride, a.Q8Stride, out var y0, out var y1, out var y2, out var y3);
                a.Y[(long)b * a.Rows + r] = y0;
                a.Y[(long)(b + 1) * a.Rows + r] = y1;
                a.Y[(long)(b + 2) * a.Rows + r] = y2;
                a.Y[(long)(b + 3) * a.Rows + r] = y3;
            }

            for (; b < a.Batch; b++)
            {
                a.Y[(long)b * a.Rows + r] = Row1(row, blocks, d, a.Q8Scale + b * a.Q8Blocks, a.Q8 + (long)b * a.Q8Stride);
            }
        }
    }

    /// <summary>Two weight rows × four activation rows; the tail block (odd block count) goes through <see cref="Tail"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile2x4(in DenseArgs a, byte* row0, byte* row1, int blocks, float* d0, float* d1, int r, int b)
    {
        Vector512<float> a00 = default, a01 = default, a02 = default, a03 = default, a10 = default, a11 = default, a12 = default, a13 = default;
        var q = a.Q8 + (long)b * a.Q8Stride;
        var xs = a.Q8Scale + b * a.Q8Blocks;
        var stride = a.Q8Stride;
        var xsStride = a.Q8Blocks;
        var k = 0;
        for (; k + 2 <= blocks; k += 2)
        {
            var (abs0, neg0) = Pair(row0, k);
            var (abs1, neg1) = Pair(row1, k);
            var ws0 = Expand(d0 + k);
            var ws1 = Expand(d1 + k);
            var p = q + k * 32;
            Step2(abs0, neg0, abs1, neg1, p, ws0, ws1, xs + k, ref a00, ref a10);
            Step2(abs0, neg0, abs1, neg1, p + stride, ws0, ws1, xs + xsStride + k, ref a01, ref a11);
            Step2(abs0, neg0, abs1, neg1, p + 2 * stride, ws0, ws1, xs + 2 * xsStride + k, ref a02, ref a12);
            Step2(abs0, neg0, abs1, neg1, p + 3 * stride, ws0, ws1, xs + 3 * xsStride + k, ref a03, ref a13);
        }

        var y = a.Y + (long)b * a.Rows + r;
        y[0] = Vector512.Sum(a00) + Tail(row0, blocks, k, d0, xs, q);
        y[1] = Vector512.Sum(a10) + Tail(row1, blocks, k, d1, xs, q);
        y += a.Rows;
        y[0] = Vector512.Sum(a01) + Tail(row0, blocks, k, d0, xs + xsStride, q + stride);
        y[1] = Vector512.Sum(a11) + Tail(row1, blocks, k, d1, xs + xsStride, q + stride);
        y += a.Rows;
        y[0] = Vector512.Sum(a02) + Tail(row0, blocks, k, d0, xs + 2 * xsStride, q + 2 * stride);
        y[1] = Vector512.Sum(a12) + Tail(row1, blocks, k, d1, xs + 2 * xsStride, q + 2 * stride);
        y += a.Rows;
        y[0] = Vector512.Sum(a03) + Tail(row0, blocks, k, d0, xs + 3 * xsStride, q + 3 * stride);
        y[1] = Vector512.Sum(a13) + Tail(row1, blocks, k, d1, xs + 3 * xsStride, q + 3 * stride);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Step2(
        Vector512<byte> abs0, Vector512<sbyte> neg0, Vector512<byte> abs1, Vector512<sbyte> neg1, sbyte* q,
        Vector512<float> ws0, Vector512<float> ws1, float* xScales, ref Vector512<float> acc0, ref Vector512<float> acc1)
    {
        var x = Vector512.Load(q);
        var minus = -x;
        var xs = Expand(xScales);
        var ones = Vector512.Create((short)1);
        var dot0 = Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(abs0, Vector512.ConditionalSelect(neg0, minus, x)), ones);
        var dot1 = Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(abs1, Vector512.ConditionalSelect(neg1, minus, x)), ones);
        acc0 = Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(dot0), ws0 * xs, acc0);
        acc1 = Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(dot1), ws1 * xs, acc1);
    }

    private static Vector512<int> Lanes => Vector512.Create(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);

    /// <summary>Blocks k and k + 1 of a repacked row in one aligned load: |w| and the lanes where w is negative.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector512<byte> Abs, Vector512<sbyte> Negative) Pair(byte* row, int k)
    {
        var w = Vector512.LoadAligned((sbyte*)row + k * 32);
        return (Avx512BW.Abs(w), Vector512.LessThan(w, Vector512<sbyte>.Zero));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Step(Vector512<byte> abs, Vector512<sbyte> negative, sbyte* q, Vector512<float> weightScale, float* xScales, Vector512<float> acc)
    {
        var x = Vector512.Load(q);
        var signed = Vector512.ConditionalSelect(negative, -x, x);
        var dot = Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(abs, signed), Vector512.Create((short)1));
        // d_w·d_x per block, the same float product the scalar reference forms.
        var scale = weightScale * Expand(xScales);
        return Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(dot), scale, acc);
    }

    /// <summary>Two consecutive block scales spread over the 8 lanes of their block each.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Expand(float* scales) =>
        Avx512F.PermuteVar16x32(Vector512.CreateScalarUnsafe(*(double*)scales).AsSingle(), Lanes);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float Row1(byte* row, int blocks, float* d, float* xs, sbyte* q)
    {
        Vector512<float> acc0 = default, acc1 = default;
        var k = 0;
        for (; k + 4 <= blocks; k += 4)
        {
            var (abs0, neg0) = Pair(row, k);
            var (abs1, neg1) = Pair(row, k + 2);
            acc0 = Step(abs0, neg0, q + k * 32, Expand(d + k), xs + k, acc0);
            acc1 = Step(abs1, neg1, q + (k + 2) * 32, Expand(d + k + 2), xs + k + 2, acc1);
        }

        if (k + 2 <= blocks)
        {
            var (abs, neg) = Pair(row, k);
            acc0 = Step(abs, neg, q + k * 32, Expand(d + k), xs + k, acc0);
            k += 2;
        }

        var sum = Vector512.Sum(acc0 + acc1);
        return sum + Tail(row, blocks, k, d, xs, q);
    }

    /// <summary>Two weight rows against one activation row; each row keeps its own accumulator.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Row2(byte* row0, byte* row1, int blocks, float* d0, float* d1, float* xs, sbyte* q, out float y0, out float y1)
    {
        Vector512<float> a0 = default, a1 = default;
        var k = 0;
        for (; k + 2 <= blocks; k += 2)
        {
            var (abs0, neg0) = Pair(row0, k);
            var (abs1, neg1) = Pair(row1, k);
            Step2(abs0, neg0, abs1, neg1, q + k * 32, Expand(d0 + k), Expand(d1 + k), xs + k, ref a0, ref a1);
        }

        y0 = Vector512.Sum(a0) + Tail(row0, blocks, k, d0, xs, q);
        y1 = Vector512.Sum(a1) + Tail(row1, blocks, k, d1, xs, q);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Row4(byte* row, int blocks, float* d, float* xs, int xsStride, sbyte* q, int stride, out float y0, out float y1, out float y2, out float y3)
    {
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
        var k = 0;
        for (; k + 2 <= blocks; k += 2)
        {
            // The weights' signs, magnitudes and scales are prepared once and used for four activation rows.
            var (abs, neg) = Pair(row, k);
            var ws = Expand(d + k);
            var p = q + k * 32;
            a0 = Step(abs, neg, p, ws, xs + k, a0);
            a1 = Step(abs, neg, p + stride, ws, xs + xsStride + k, a1);
            a2 = Step(abs, neg, p + 2 * stride, ws, xs + 2 * xsStride + k, a2);
            a3 = Step(abs, neg, p + 3 * stride, ws, xs + 3 * xsStride + k, a3);
        }

        y0 = Vector512.Sum(a0) + Tail(row, blocks, k, d, xs, q);
        y1 = Vector512.Sum(a1) + Tail(row, blocks, k, d, xs + xsStride, q + stride);
        y2 = Vector512.Sum(a2) + Tail(row, blocks, k, d, xs + 2 * xsStride, q + 2 * stride);
        y3 = Vector512.Sum(a3) + Tail(row, blocks, k, d, xs + 3 * xsStride, q + 3 * stride);
    }

    /// <summary>The block left after the paired loops (odd block count).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float Tail(byte* row, int blocks, int k, float* d, float* xs, sbyte* q)
    {
        var sum = 0f;
        for (; k < blocks; k++)
        {
            var w = Vector256.Load((sbyte*)row + k * 32);
            var dot = Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(Avx2.Abs(w), Avx2.Sign(Vector256.Load(q + k * 32), w)), Vector256.Create((short)1));
            sum += Vector256.Sum(dot) * (d[k] * xs[k]);
        }

        return sum;
    }
}
