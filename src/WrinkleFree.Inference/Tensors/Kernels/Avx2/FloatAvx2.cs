using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace WrinkleFree.Inference.Tensors.Kernels.Avx2;

// This namespace's name hides the X86 Avx2 class from code inside it; the alias brings the class back.
using Avx2 = System.Runtime.Intrinsics.X86.Avx2;

/// <summary>
/// 256-bit F32/F16/BF16 kernels for machines without AVX-512 (most cloud x86 still lacks it): without them an F16 LM head
/// would fall back to scalar Half conversion, seconds per token.
/// </summary>
internal static unsafe class FloatAvx2
{
    public static void F32(in DenseArgs a, int start, int end) => Core<F32Load>(a, start, end, 4);

    public static void F16(in DenseArgs a, int start, int end) => Core<F16Load>(a, start, end, 2);

    public static void BF16(in DenseArgs a, int start, int end) => Core<BF16Load>(a, start, end, 2);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Core<TLoad>(in DenseArgs a, int start, int end, int elementBytes)
        where TLoad : struct, ILoad
    {
        var full = a.Columns & ~7;
        var n = a.Columns;
        for (var r = start; r < end; r++)
        {
            var row = a.Weights + (long)r * n * elementBytes;
            var b = 0;
            for (; b + 4 <= a.Batch; b += 4)
            {
                var x = a.X + (long)b * n;
                Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
                for (var i = 0; i < full; i += 8)
                {
                    var w = TLoad.Load(row, i);
                    a0 = Fma.MultiplyAdd(w, Vector256.Load(x + i), a0);
                    a1 = Fma.MultiplyAdd(w, Vector256.Load(x + n + i), a1);
                    a2 = Fma.MultiplyAdd(w, Vector256.Load(x + 2 * n + i), a2);
                    a3 = Fma.MultiplyAdd(w, Vector256.Load(x + 3 * n + i), a3);
                }

                a.Y[(long)b * a.Rows + r] = Vector256.Sum(a0) + IFloatElement.Tail<TLoad>(row, x, full, n);
                a.Y[(long)(b + 1) * a.Rows + r] = Vector256.Sum(a1) + IFloatElement.Tail<TLoad>(row, x + n, full, n);
                a.Y[(long)(b + 2) * a.Rows + r] = Vector256.Sum(a2) + IFloatElement.Tail<TLoad>(row, x + 2 * n, full, n);
                a.Y[(long)(b + 3) * a.Rows + r] = Vector256.Sum(a3) + IFloatElement.Tail<TLoad>(row, x + 3 * n, full, n);
            }

            for (; b < a.Batch; b++)
            {
                var x = a.X + (long)b * n;
                Vector256<float> acc0 = default, acc1 = default;
                var i = 0;
                for (; i + 16 <= full; i += 16)
                {
                    acc0 = Fma.MultiplyAdd(TLoad.Load(row, i), Vector256.Load(x + i), acc0);
                    acc1 = Fma.MultiplyAdd(TLoad.Load(row, i + 8), Vector256.Load(x + i + 8), acc1);
                }

                for (; i < full; i += 8)
                {
                    acc0 = Fma.MultiplyAdd(TLoad.Load(row, i), Vector256.Load(x + i), acc0);
                }

                a.Y[(long)b * a.Rows + r] = Vector256.Sum(acc0 + acc1) + IFloatElement.Tail<TLoad>(row, x, full, n);
            }
        }
    }

    private interface ILoad : IFloatElement
    {
        static abstract Vector256<float> Load(byte* row, int i);
    }

    private readonly struct F32Load : ILoad
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Load(byte* row, int i) => Vector256.Load((float*)row + i);

        public static float LoadOne(byte* row, int i) => ((float*)row)[i];
    }

    private readonly struct BF16Load : ILoad
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Load(byte* row, int i) =>
            Avx2.ShiftLeftLogical(Avx2.ConvertToVector256Int32(Vector128.Load((ushort*)row + i)), 16).AsSingle();

        public static float LoadOne(byte* row, int i) => BlockDecoders.BFloat16(((ushort*)row)[i]);
    }

    private readonly struct F16Load : ILoad
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Load(byte* row, int i)
        {
            // Same exponent-rebias trick as the AVX-512 kernel: exact for normals, subnormals and zero.
            var h = Avx2.ConvertToVector256Int32(Vector128.Load((ushort*)row + i)).AsUInt32();
            var magnitude = Avx2.ShiftLeftLogical(h & Vector256.Create(0x7fffu), 13);
            var value = (magnitude.AsSingle() * Vector256.Create(BitConverter.Int32BitsToSingle(0x77800000))).AsUInt32();
            var special = Vector256.GreaterThanOrEqual(magnitude, Vector256.Create(0x0f800000u)) & Vector256.Create(0x7f800000u);
            var sign = Avx2.ShiftLeftLogical(h & Vector256.Create(0x8000u), 16);
            return (value | special | sign).AsSingle();
        }

        public static float LoadOne(byte* row, int i) => BlockDecoders.Half(row + 2 * i);
    }
}
