using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace WrinkleFree.Inference.Tensors.Kernels.Avx512;

/// <summary>
/// Q8_0 × Q8_0-activations on the eight-row interleaved copy (<see cref="Q8Interleaved"/>) for AVX-512 hosts without
/// AVX-VNNI (Zen 4, Ice Lake, Cascade Lake: .NET 10 exposes no 512-bit vpdpbusd). Two groups share one 512-bit vector:
/// lanes 0-7 hold group g0's rows, 8-15 group g1's, four consecutive values each. The stored w + 128 is turned back into
/// w once per chunk; its magnitude and sign serve every token: the sign moves onto the broadcast activation word with a
/// select, vpmaddubsw multiplies |w| by ±q (127·127·2 &lt; 32767) and vpmaddwd adds the pairs into each row's int32 block
/// sum. So a block's sum needs no horizontal reduction and its scaling (conversion, scale product, FMA) covers sixteen
/// rows at once. It replaced a kernel on aligned int8 rows that paid the scaling per row and token: measured (kernels bench,
/// 2B4T head, 1 thread, without AVX-VNNI) 4 tokens 2.3x and 16 tokens 1.5x faster, one token the same.
/// </summary>
/// <remarks>
/// Work items are groups of eight rows. The range's two halves are paired, group start + i with start + half + i, so a
/// decode GEMV keeps two memory streams; an odd last group runs with a zero upper half. The int32 block sums are exact and
/// each row accumulates sum·(d_w·d_x) block by block in order with an FMA, as the scalar reference and
/// <see cref="Avx2.Q8Vnni8"/> do.
/// </remarks>
internal static unsafe class Q8Interleaved512
{
    private const int BlockBytes = Q8Interleaved.BlockBytes;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Multiply(in DenseArgs a, int start, int end)
    {
        var blocks = a.Columns >> 5;
        var half = (end - start + 1) / 2;
        for (var i = 0; i < half; i++)
        {
            var g0 = start + i;
            var g1 = start + half + i < end ? start + half + i : -1;
            var t = 0;
            for (; t + 4 <= a.Batch; t += 4)
            {
                Tile4(a, blocks, g0, g1, t);
            }

            for (; t < a.Batch; t++)
            {
                Token(a, blocks, g0, g1, t);
            }
        }
    }

    /// <summary>Sixteen rows (groups g0 and g1; g1 &lt; 0: none) × four tokens: each chunk's |w| and sign serve the four.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile4(in DenseArgs a, int blocks, int g0, int g1, int t)
    {
        var w0 = a.Weights + (long)g0 * a.WeightStride;
        var w1 = g1 >= 0 ? a.Weights + (long)g1 * a.WeightStride : null;
        var q = a.Q8 + (long)t * a.Q8Stride;
        var qs = a.Q8Stride;
        var xs = a.Q8Scale + t * a.Q8Blocks;
        var n = a.Q8Blocks;
        Vector512<float> f0 = default, f1 = default, f2 = default, f3 = default;
        for (var b = 0; b < blocks; b++)
        {
            var p0 = w0 + b * BlockBytes;
            var p1 = w1 != null ? w1 + b * BlockBytes : null;
            var p = q + b * 32;
            Vector512<int> i0 = default, i1 = default, i2 = default, i3 = default;
            for (var k = 0; k < 8; k++)
            {
                var w = Weights(p0, p1, k);
                var abs = Avx512BW.Abs(w);
                var negative = Vector512.LessThan(w, Vector512<sbyte>.Zero);
                i0 += Dot(abs, negative, p + k * 4);
                i1 += Dot(abs, negative, p + qs + k * 4);
                i2 += Dot(abs, negative, p + 2 * qs + k * 4);
                i3 += Dot(abs, negative, p + 3 * qs + k * 4);
            }

            var ws = Scales(p0, p1);
            f0 = Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(i0), ws * Vector512.Create(xs[b]), f0);
            f1 = Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(i1), ws * Vector512.Create(xs[n + b]), f1);
            f2 = Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(i2), ws * Vector512.Create(xs[2 * n + b]), f2);
            f3 = Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(i3), ws * Vector512.Create(xs[3 * n + b]), f3);
        }

        Store(a, f0, t, g0, g1);
        Store(a, f1, t + 1, g0, g1);
        Store(a, f2, t + 2, g0, g1);
        Store(a, f3, t + 3, g0, g1);
    }

    /// <summary>Sixteen rows (groups g0 and g1; g1 &lt; 0: none) × one token.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Token(in DenseArgs a, int blocks, int g0, int g1, int t)
    {
        var w0 = a.Weights + (long)g0 * a.WeightStride;
        var w1 = g1 >= 0 ? a.Weights + (long)g1 * a.WeightStride : null;
        var q = a.Q8 + (long)t * a.Q8Stride;
        var xs = a.Q8Scale + t * a.Q8Blocks;
        var f = Vector512<float>.Zero;
        for (var b = 0; b < blocks; b++)
        {
            var p0 = w0 + b * BlockBytes;
            var p1 = w1 != null ? w1 + b * BlockBytes : null;
            var p = q + b * 32;
            // Two chains, so the adds do not wait on each other.
            Vector512<int> even = default, odd = default;
            for (var k = 0; k < 8; k += 2)
            {
                var w = Weights(p0, p1, k);
                even += Dot(Avx512BW.Abs(w), Vector512.LessThan(w, Vector512<sbyte>.Zero), p + k * 4);
                w = Weights(p0, p1, k + 1);
                odd += Dot(Avx512BW.Abs(w), Vector512.LessThan(w, Vector512<sbyte>.Zero), p + k * 4 + 4);
            }

            f = Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(even + odd), Scales(p0, p1) * Vector512.Create(xs[b]), f);
        }

        Store(a, f, t, g0, g1);
    }

    /// <summary>Chunk <paramref name="k"/> of both groups' block (the upper half zero without a second group), as signed w.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<sbyte> Weights(byte* p0, byte* p1, int k)
    {
        var lower = Vector256.Load(p0 + k * 32).ToVector512Unsafe();
        var both = p1 != null ? Avx512F.InsertVector256(lower, Vector256.Load(p1 + k * 32), 1) : Avx512F.InsertVector256(lower, Vector256<byte>.Zero, 1);
        return (both ^ Vector512.Create((byte)0x80)).AsSByte();
    }

    /// <summary>Each row's Σ of four w·q: the activation word broadcast, negated where w is, against |w|.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Dot(Vector512<byte> abs, Vector512<sbyte> negative, sbyte* q)
    {
        var x = Vector512.Create(*(int*)q).AsSByte();
        var signed = Vector512.ConditionalSelect(negative, -x, x);
        return Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(abs, signed), Vector512.Create((short)1));
    }

    /// <summary>The sixteen rows' float scales of a block (the upper half zero without a second group).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Scales(byte* p0, byte* p1)
    {
        var lower = Vector256.Load((float*)(p0 + Q8Interleaved.ScaleOffset)).ToVector512Unsafe();
        return p1 != null ? Avx512F.InsertVector256(lower, Vector256.Load((float*)(p1 + Q8Interleaved.ScaleOffset)), 1) : Avx512F.InsertVector256(lower, Vector256<float>.Zero, 1);
    }

    /// <summary>Token <paramref name="t"/>'s outputs of group g0 (lanes 0-7) and g1 (lanes 8-15), real rows only.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(in DenseArgs a, Vector512<float> value, int t, int g0, int g1)
    {
        var y = a.Y + (long)t * a.Rows;
        Q8Interleaved.StoreGroup(value.GetLower(), y + g0 * 8, a.Rows - g0 * 8);
        if (g1 >= 0)
        {
            Q8Interleaved.StoreGroup(value.GetUpper(), y + g1 * 8, a.Rows - g1 * 8);
        }
    }
}
