using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace WrinkleFree.Inference.Tensors;

/// <summary>
/// SIMD kernels for Q8_0 weights (int8 products per 32-value block against Q8_0 activations; |w|·sign(q, w) turns the
/// signed×signed product into the unsigned×signed form vpmaddubsw/vpdpbusd take) and for F32/F16/BF16 weights (float FMA).
/// Both stream a weight row once for up to four activation rows.
/// </summary>
internal static unsafe class DenseKernels
{
    public static void Q8Avx2(in DenseArgs a, int start, int end) => Q8Core<TernaryAvx2.MaddUbs>(a, start, end);

    public static void Q8Vnni(in DenseArgs a, int start, int end) => Q8Core<TernaryAvx2.Vnni>(a, start, end);

    private static void Q8Core<TDot>(in DenseArgs a, int start, int end)
        where TDot : struct, TernaryAvx2.IByteDot
    {
        var blocks = a.Columns >> 5;
        var rowBytes = (long)blocks * BlockDecoders.Q8BlockBytes;
        var scales = blocks <= 1024 ? stackalloc float[blocks] : new float[blocks];
        fixed (float* d = scales)
        {
            for (var r = start; r < end; r++)
            {
                var row = a.Weights + r * rowBytes;
                BlockDecoders.Halves(row, BlockDecoders.Q8BlockBytes, blocks, d);
                var b = 0;
                for (; b + 4 <= a.Batch; b += 4)
                {
                    Q8Row4<TDot>(row, blocks, d, a, b, r);
                }

                for (; b < a.Batch; b++)
                {
                    var q = a.Q8 + (long)b * a.Q8Stride;
                    var s = a.Q8Scale + b * a.Q8Blocks;
                    var acc = Vector256<float>.Zero;
                    for (var k = 0; k < blocks; k++)
                    {
                        var w = Vector256.Load((sbyte*)row + k * BlockDecoders.Q8BlockBytes + 2);
                        var dot = TDot.Add(Vector256<int>.Zero, Avx2.Abs(w), Avx2.Sign(Vector256.Load(q + k * 32), w));
                        acc = Fma.MultiplyAdd(Avx.ConvertToVector256Single(dot), Vector256.Create(d[k] * s[k]), acc);
                    }

                    a.Y[(long)b * a.Rows + r] = Vector256.Sum(acc);
                }
            }
        }
    }

    private static void Q8Row4<TDot>(byte* row, int blocks, float* d, in DenseArgs a, int b, int r)
        where TDot : struct, TernaryAvx2.IByteDot
    {
        var q = a.Q8 + (long)b * a.Q8Stride;
        var s = a.Q8Scale + b * a.Q8Blocks;
        var qs = a.Q8Stride;
        var ss = a.Q8Blocks;
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
        for (var k = 0; k < blocks; k++)
        {
            var w = Vector256.Load((sbyte*)row + k * BlockDecoders.Q8BlockBytes + 2);
            var abs = Avx2.Abs(w);
            var dk = d[k];
            var p = q + k * 32;
            a0 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(TDot.Add(default, abs, Avx2.Sign(Vector256.Load(p), w))), Vector256.Create(dk * s[k]), a0);
            a1 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(TDot.Add(default, abs, Avx2.Sign(Vector256.Load(p + qs), w))), Vector256.Create(dk * s[ss + k]), a1);
            a2 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(TDot.Add(default, abs, Avx2.Sign(Vector256.Load(p + 2 * qs), w))), Vector256.Create(dk * s[2 * ss + k]), a2);
            a3 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(TDot.Add(default, abs, Avx2.Sign(Vector256.Load(p + 3 * qs), w))), Vector256.Create(dk * s[3 * ss + k]), a3);
        }

        a.Y[(long)b * a.Rows + r] = Vector256.Sum(a0);
        a.Y[(long)(b + 1) * a.Rows + r] = Vector256.Sum(a1);
        a.Y[(long)(b + 2) * a.Rows + r] = Vector256.Sum(a2);
        a.Y[(long)(b + 3) * a.Rows + r] = Vector256.Sum(a3);
    }

    public static void F32Avx512(in DenseArgs a, int start, int end) => FloatCore<F32Load>(a, start, end, 4);

    public static void F16Avx512(in DenseArgs a, int start, int end) => FloatCore<F16Load>(a, start, end, 2);

    public static void BF16Avx512(in DenseArgs a, int start, int end) => FloatCore<BF16Load>(a, start, end, 2);

    private static void FloatCore<TLoad>(in DenseArgs a, int start, int end, int elementBytes)
        where TLoad : struct, IFloatLoad
    {
        var full = a.Columns & ~15;
        for (var r = start; r < end; r++)
        {
            var row = a.Weights + (long)r * a.Columns * elementBytes;
            var b = 0;
            for (; b + 4 <= a.Batch; b += 4)
            {
                var x = a.X + (long)b * a.Columns;
                var n = a.Columns;
                Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
                for (var i = 0; i < full; i += 16)
                {
                    var w = TLoad.Load(row, i);
                    a0 = Avx512F.FusedMultiplyAdd(w, Vector512.Load(x + i), a0);
                    a1 = Avx512F.FusedMultiplyAdd(w, Vector512.Load(x + n + i), a1);
                    a2 = Avx512F.FusedMultiplyAdd(w, Vector512.Load(x + 2 * n + i), a2);
                    a3 = Avx512F.FusedMultiplyAdd(w, Vector512.Load(x + 3 * n + i), a3);
                }

                a.Y[(long)b * a.Rows + r] = Vector512.Sum(a0) + IFloatElement.Tail<TLoad>(row, x, full, n);
                a.Y[(long)(b + 1) * a.Rows + r] = Vector512.Sum(a1) + IFloatElement.Tail<TLoad>(row, x + n, full, n);
                a.Y[(long)(b + 2) * a.Rows + r] = Vector512.Sum(a2) + IFloatElement.Tail<TLoad>(row, x + 2 * n, full, n);
                a.Y[(long)(b + 3) * a.Rows + r] = Vector512.Sum(a3) + IFloatElement.Tail<TLoad>(row, x + 3 * n, full, n);
            }

            for (; b < a.Batch; b++)
            {
                var x = a.X + (long)b * a.Columns;
                Vector512<float> acc0 = default, acc1 = default;
                var i = 0;
                // Two accumulators hide the FMA latency on the single-row path.
                for (; i + 32 <= full; i += 32)
                {
                    acc0 = Avx512F.FusedMultiplyAdd(TLoad.Load(row, i), Vector512.Load(x + i), acc0);
                    acc1 = Avx512F.FusedMultiplyAdd(TLoad.Load(row, i + 16), Vector512.Load(x + i + 16), acc1);
                }

                for (; i < full; i += 16)
                {
                    acc0 = Avx512F.FusedMultiplyAdd(TLoad.Load(row, i), Vector512.Load(x + i), acc0);
                }

                a.Y[(long)b * a.Rows + r] = Vector512.Sum(acc0 + acc1) + IFloatElement.Tail<TLoad>(row, x, full, a.Columns);
            }
        }
    }

    private interface IFloatLoad : IFloatElement
    {
        static abstract Vector512<float> Load(byte* row, int i);
    }

    private readonly struct F32Load : IFloatLoad
    {
        public static Vector512<float> Load(byte* row, int i) => Vector512.Load((float*)row + i);

        public static float LoadOne(byte* row, int i) => ((float*)row)[i];
    }

    private readonly struct BF16Load : IFloatLoad
    {
        // bf16 is the top half of an f32: widen and shift.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Load(byte* row, int i) =>
            Avx512F.ShiftLeftLogical(Avx512F.ConvertToVector512UInt32(Vector256.Load((ushort*)row + i)), 16).AsSingle();

        public static float LoadOne(byte* row, int i) => BlockDecoders.BFloat16(((ushort*)row)[i]);
    }

    private readonly struct F16Load : IFloatLoad
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Load(byte* row, int i)
        {
            // Move exponent+mantissa into f32 position and rescale by 2^112 (0x77800000): exact for normals, subnormals and zero.
            var h = Avx512F.ConvertToVector512UInt32(Vector256.Load((ushort*)row + i));
            var magnitude = Avx512F.ShiftLeftLogical(h & Vector512.Create(0x7fffu), 13);
            var value = (magnitude.AsSingle() * Vector512.Create(BitConverter.Int32BitsToSingle(0x77800000))).AsUInt32();
            // Infinity and NaN (exponent 31) need the f32 all-ones exponent.
            var special = Vector512.GreaterThanOrEqual(magnitude, Vector512.Create(0x0f800000u)) & Vector512.Create(0x7f800000u);
            var sign = Avx512F.ShiftLeftLogical(h & Vector512.Create(0x8000u), 16);
            return (value | special | sign).AsSingle();
        }

        public static float LoadOne(byte* row, int i) => BlockDecoders.Half(row + 2 * i);
    }
}
