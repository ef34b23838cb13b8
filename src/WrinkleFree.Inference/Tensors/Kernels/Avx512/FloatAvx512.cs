using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace WrinkleFree.Inference.Tensors.Kernels.Avx512;

/// <summary>
/// AVX-512 kernels for F32/F16/BF16 weights (float FMA); a weight row is streamed once for up to four activation rows.
/// </summary>
internal static unsafe class FloatAvx512
{
    public static void F32(in DenseArgs a, int start, int end) => FloatCore<F32Load>(a, start, end, 4);

    public static void F16(in DenseArgs a, int start, int end) => FloatCore<F16Load>(a, start, end, 2);

    public static void BF16(in DenseArgs a, int start, int end) => FloatCore<BF16Load>(a, start, end, 2);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
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
