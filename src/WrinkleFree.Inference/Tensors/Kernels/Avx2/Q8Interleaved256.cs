using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace WrinkleFree.Inference.Tensors.Kernels.Avx2;

// This namespace's name hides the X86 Avx2 class from code inside it; the alias brings the class back.
using Avx2 = System.Runtime.Intrinsics.X86.Avx2;

/// <summary>
/// Q8_0 × Q8_0-activations on the eight-row interleaved copy (<see cref="Q8Interleaved"/>) for AVX2 hosts without AVX-VNNI
/// (Zen 2 and 3, Haswell to Coffee Lake). A 256-bit chunk holds four consecutive values of each of a group's eight rows.
/// The stored w + 128 is turned back into w once per chunk and |w| serves every token; vpsignb moves w's sign onto the
/// broadcast activation word, vpmaddubsw multiplies |w| by ±q (127·127·2 &lt; 32767) and vpmaddwd adds the pairs into
/// each row's int32 block sum. A block's scaling (conversion, scale product, FMA) then covers eight rows at once, where
/// the block kernel (<see cref="Q8Avx2"/>) paid it per row and token.
/// </summary>
/// <remarks>
/// Work items are groups of eight rows. In decode the range's two halves are walked side by side (group start + i with
/// start + half + i), two memory streams per thread. The int32 block sums are exact and each row accumulates
/// sum·(d_w·d_x) block by block in order with an FMA, as the scalar reference and <see cref="Q8Vnni8"/> do.
/// </remarks>
internal static unsafe class Q8Interleaved256
{
    private const int BlockBytes = Q8Interleaved.BlockBytes;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Multiply(in DenseArgs a, int start, int end)
    {
        var blocks = a.Columns >> 5;
        if (a.Batch == 1)
        {
            var half = (end - start) / 2;
            for (var i = 0; i < half; i++)
            {
                Token2(a, blocks, start + i, start + half + i);
            }

            if (((end - start) & 1) != 0)
            {
                Tokens(a, blocks, end - 1, 0, 1);
            }

            return;
        }

        for (var g = start; g < end; g++)
        {
            var t = 0;
            for (; t + 4 <= a.Batch; t += 4)
            {
                Tile4(a, blocks, g, t);
            }

            Tokens(a, blocks, g, t, a.Batch);
        }
    }

    /// <summary>Eight rows (group g) × four tokens: each chunk's |w| and w serve the four.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile4(in DenseArgs a, int blocks, int g, int t)
    {
        var w = a.Weights + (long)g * a.WeightStride;
        var q = a.Q8 + (long)t * a.Q8Stride;
        var qs = a.Q8Stride;
        var xs = a.Q8Scale + t * a.Q8Blocks;
        var n = a.Q8Blocks;
        Vector256<float> f0 = default, f1 = default, f2 = default, f3 = default;
        for (var b = 0; b < blocks; b++)
        {
            var p = w + b * BlockBytes;
            var x = q + b * 32;
            Vector256<int> i0 = default, i1 = default, i2 = default, i3 = default;
            for (var k = 0; k < 8; k++)
            {
                var v = Signed(p, k);
                var abs = Avx2.Abs(v);
                i0 += Dot(abs, v, x + k * 4);
                i1 += Dot(abs, v, x + qs + k * 4);
                i2 += Dot(abs, v, x + 2 * qs + k * 4);
                i3 += Dot(abs, v, x + 3 * qs + k * 4);
            }

            var ws = Scales(p);
            f0 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(i0), ws * Vector256.Create(xs[b]), f0);
            f1 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(i1), ws * Vector256.Create(xs[n + b]), f1);
            f2 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(i2), ws * Vector256.Create(xs[2 * n + b]), f2);
            f3 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(i3), ws * Vector256.Create(xs[3 * n + b]), f3);
        }

        var rows = a.Rows - g * 8;
        var y = a.Y + (long)t * a.Rows + g * 8;
        Q8Interleaved.StoreGroup(f0, y, rows);
        Q8Interleaved.StoreGroup(f1, y + a.Rows, rows);
        Q8Interleaved.StoreGroup(f2, y + 2L * a.Rows, rows);
        Q8Interleaved.StoreGroup(f3, y + 3L * a.Rows, rows);
    }

    /// <summary>Groups g0 and g1 against token 0, block by block side by side.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Token2(in DenseArgs a, int blocks, int g0, int g1)
    {
        var w0 = a.Weights + (long)g0 * a.WeightStride;
        var w1 = a.Weights + (long)g1 * a.WeightStride;
        Vector256<float> f0 = default, f1 = default;
        for (var b = 0; b < blocks; b++)
        {
            var scale = Vector256.Create(a.Q8Scale[b]);
            var x = a.Q8 + b * 32;
            f0 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(BlockSum(w0 + b * BlockBytes, x)), Scales(w0 + b * BlockBytes) * scale, f0);
            f1 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(BlockSum(w1 + b * BlockBytes, x)), Scales(w1 + b * BlockBytes) * scale, f1);
        }

        Q8Interleaved.StoreGroup(f0, a.Y + g0 * 8, a.Rows - g0 * 8);
        Q8Interleaved.StoreGroup(f1, a.Y + g1 * 8, a.Rows - g1 * 8);
    }

    /// <summary>Group g against tokens [t, stop) one at a time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tokens(in DenseArgs a, int blocks, int g, int t, int stop)
    {
        var w = a.Weights + (long)g * a.WeightStride;
        for (; t < stop; t++)
        {
            var q = a.Q8 + (long)t * a.Q8Stride;
            var xs = a.Q8Scale + t * a.Q8Blocks;
            var f = Vector256<float>.Zero;
            for (var b = 0; b < blocks; b++)
            {
                var p = w + b * BlockBytes;
                f = Fma.MultiplyAdd(Avx.ConvertToVector256Single(BlockSum(p, q + b * 32)), Scales(p) * Vector256.Create(xs[b]), f);
            }

            Q8Interleaved.StoreGroup(f, a.Y + (long)t * a.Rows + g * 8, a.Rows - g * 8);
        }
    }

    /// <summary>The group's eight exact int32 sums Σ w·q of one block against one token, in two chains.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> BlockSum(byte* p, sbyte* x)
    {
        Vector256<int> even = default, odd = default;
        for (var k = 0; k < 8; k += 2)
        {
            var v = Signed(p, k);
            even += Dot(Avx2.Abs(v), v, x + k * 4);
            v = Signed(p, k + 1);
            odd += Dot(Avx2.Abs(v), v, x + k * 4 + 4);
        }

        return even + odd;
    }

    /// <summary>Chunk <paramref name="k"/> of a group's block as signed w (stored as w + 128).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<sbyte> Signed(byte* p, int k) => (Vector256.Load(p + k * 32) ^ Vector256.Create((byte)0x80)).AsSByte();

    /// <summary>Each row's Σ of four w·q: the activation word broadcast, its sign flipped where w is negative, against |w|.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Dot(Vector256<byte> abs, Vector256<sbyte> w, sbyte* x) =>
        Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(abs, Avx2.Sign(Vector256.Create(*(int*)x).AsSByte(), w)), Vector256.Create((short)1));

    /// <summary>The group's eight float scales of a block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Scales(byte* block) => Vector256.Load((float*)(block + Q8Interleaved.ScaleOffset));

}
