using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace WrinkleFree.Inference.Tensors;

/// <summary>
/// Q8_0 × Q8_0-activations with two 32-value blocks per 512-bit vector. AVX-512 has no vpsignb, so the weight signs move
/// onto the activations with a masked negate; |w| × ±q then fits vpmaddubsw (127·127·2 &lt; 32767). The per-block scale
/// products d_w·d_x are computed per row in one vectorized pass and expanded to 8 lanes each with one permute.
/// </summary>
internal static unsafe class Q8Avx512
{
    public static void Multiply(in DenseArgs a, int start, int end)
    {
        var blocks = a.Columns >> 5;
        var rowBytes = (long)blocks * BlockDecoders.Q8BlockBytes;
        var weightScales = blocks <= 1024 ? stackalloc float[blocks] : new float[blocks];
        var products = blocks <= 1024 ? stackalloc float[4 * blocks] : new float[4 * blocks];
        fixed (float* d = weightScales)
        fixed (float* sp = products)
        {
            for (var r = start; r < end; r++)
            {
                var row = a.Weights + r * rowBytes;
                BlockDecoders.Halves(row, BlockDecoders.Q8BlockBytes, blocks, d);
                var b = 0;
                for (; b + 4 <= a.Batch; b += 4)
                {
                    for (var t = 0; t < 4; t++)
                    {
                        TensorPrimitives.Multiply(weightScales, new ReadOnlySpan<float>(a.Q8Scale + (b + t) * a.Q8Blocks, blocks), products.Slice(t * blocks, blocks));
                    }

                    Row4(row, blocks, sp, a.Q8 + (long)b * a.Q8Stride, a.Q8Stride, out var y0, out var y1, out var y2, out var y3);
                    a.Y[(long)b * a.Rows + r] = y0;
                    a.Y[(long)(b + 1) * a.Rows + r] = y1;
                    a.Y[(long)(b + 2) * a.Rows + r] = y2;
                    a.Y[(long)(b + 3) * a.Rows + r] = y3;
                }

                for (; b < a.Batch; b++)
                {
                    TensorPrimitives.Multiply(weightScales, new ReadOnlySpan<float>(a.Q8Scale + b * a.Q8Blocks, blocks), products[..blocks]);
                    a.Y[(long)b * a.Rows + r] = Row1(row, blocks, sp, a.Q8 + (long)b * a.Q8Stride);
                }
            }
        }
    }

    private static Vector512<int> Lanes => Vector512.Create(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);

    /// <summary>Two blocks' weights in one vector: |w| and the lanes where w is negative.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector512<byte> Abs, Vector512<sbyte> Negative) Pair(byte* row, int k)
    {
        var first = row + k * BlockDecoders.Q8BlockBytes + 2;
        var w = Vector512.Create(Vector256.Load((sbyte*)first), Vector256.Load((sbyte*)first + BlockDecoders.Q8BlockBytes));
        return (Avx512BW.Abs(w), Vector512.LessThan(w, Vector512<sbyte>.Zero));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Step(Vector512<byte> abs, Vector512<sbyte> negative, sbyte* q, float* scales, Vector512<float> acc)
    {
        var x = Vector512.Load(q);
        var signed = Vector512.ConditionalSelect(negative, -x, x);
        var dot = Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(abs, signed), Vector512.Create((short)1));
        var scale = Avx512F.PermuteVar16x32(Vector512.CreateScalarUnsafe(*(double*)scales).AsSingle(), Lanes);
        return Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(dot), scale, acc);
    }

    private static float Row1(byte* row, int blocks, float* sp, sbyte* q)
    {
        Vector512<float> acc0 = default, acc1 = default;
        var k = 0;
        for (; k + 4 <= blocks; k += 4)
        {
            var (abs0, neg0) = Pair(row, k);
            var (abs1, neg1) = Pair(row, k + 2);
            acc0 = Step(abs0, neg0, q + k * 32, sp + k, acc0);
            acc1 = Step(abs1, neg1, q + (k + 2) * 32, sp + k + 2, acc1);
        }

        var sum = Vector512.Sum(acc0 + acc1);
        return sum + Tail(row, blocks, k, sp, q);
    }

    private static void Row4(byte* row, int blocks, float* sp, sbyte* q, int stride, out float y0, out float y1, out float y2, out float y3)
    {
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
        var k = 0;
        for (; k + 2 <= blocks; k += 2)
        {
            var (abs, neg) = Pair(row, k);
            var p = q + k * 32;
            a0 = Step(abs, neg, p, sp + k, a0);
            a1 = Step(abs, neg, p + stride, sp + blocks + k, a1);
            a2 = Step(abs, neg, p + 2 * stride, sp + 2 * blocks + k, a2);
            a3 = Step(abs, neg, p + 3 * stride, sp + 3 * blocks + k, a3);
        }

        y0 = Vector512.Sum(a0) + Tail(row, blocks, k, sp, q);
        y1 = Vector512.Sum(a1) + Tail(row, blocks, k, sp + blocks, q + stride);
        y2 = Vector512.Sum(a2) + Tail(row, blocks, k, sp + 2 * blocks, q + 2 * stride);
        y3 = Vector512.Sum(a3) + Tail(row, blocks, k, sp + 3 * blocks, q + 3 * stride);
    }

    /// <summary>The blocks left after the paired loop, one at a time.</summary>
    private static float Tail(byte* row, int blocks, int k, float* sp, sbyte* q)
    {
        var sum = 0f;
        for (; k < blocks; k++)
        {
            var w = Vector256.Load((sbyte*)row + k * BlockDecoders.Q8BlockBytes + 2);
            var dot = Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(Avx2.Abs(w), Avx2.Sign(Vector256.Load(q + k * 32), w)), Vector256.Create((short)1));
            sum += Vector256.Sum(dot) * sp[k];
        }

        return sum;
    }
}
