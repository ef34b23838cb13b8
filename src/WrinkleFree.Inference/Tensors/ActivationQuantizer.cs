using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace WrinkleFree.Inference.Tensors;

/// <summary>Absmax int8 quantization of activation rows: q = clamp(round(x·127/max|x|), −127, 127), ties to even.</summary>
internal static unsafe class ActivationQuantizer
{
    /// <summary>Quantizes <paramref name="n"/> floats into <paramref name="q"/> and returns max|x|/127 (0 for an all-zero row).</summary>
    /// <remarks>
    /// Called for every token of every matmul input, so it is compiled fully optimized from its first call and finds max|x|
    /// with HotMath rather than TensorPrimitives, whose generic code starts unoptimized in every process: a fresh process's
    /// first long prompt spent a large share of its time here.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float QuantizeRow(float* x, int n, sbyte* q)
    {
        var amax = Models.HotMath.MaxAbs(new ReadOnlySpan<float>(x, n));
        if (!(amax > 0f))
        {
            new Span<sbyte>(q, n).Clear();
            return 0f;
        }

        var inverse = 127f / amax;
        if (Avx512F.IsSupported)
        {
            QuantizeAvx512(x, n, q, inverse);
        }
        else
        {
            QuantizeScalar(x, n, q, inverse);
        }

        return amax / 127f;
    }

    /// <summary>The reference rounding every SIMD path must reproduce bit for bit.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void QuantizeScalar(float* x, int n, sbyte* q, float inverse)
    {
        for (var i = 0; i < n; i++)
        {
            var v = MathF.Round(x[i] * inverse, MidpointRounding.ToEven);
            q[i] = (sbyte)Math.Clamp(v, -127f, 127f);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void QuantizeAvx512(float* x, int n, sbyte* q, float inverse)
    {
        var scale = Vector512.Create(inverse);
        var lo = Vector512.Create(-127);
        var hi = Vector512.Create(127);
        var i = 0;
        for (; i + 16 <= n; i += 16)
        {
            // vcvtps2dq rounds with MXCSR's default mode, nearest-even, matching MathF.Round(ToEven).
            var v = Avx512F.ConvertToVector512Int32(Avx512F.Multiply(Avx512F.LoadVector512(x + i), scale));
            v = Avx512F.Min(Avx512F.Max(v, lo), hi);
            Avx512F.ConvertToVector128SByteWithSaturation(v).Store(q + i);
        }

        QuantizeScalar(x + i, n - i, q + i, inverse);
    }

    /// <summary>Σ q[0..n): per 256-value block of a ternary matmul's activations and per 32-value Q8 block, once per token.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int Sum(sbyte* q, int n)
    {
        // vpsadbw of (q xor 0x80) against zero sums eight biased bytes per 64-bit lane; the bias is 128 per value.
        long biased = 0;
        var i = 0;
        if (Avx512BW.IsSupported)
        {
            var acc = Vector512<ulong>.Zero;
            for (; i + 64 <= n; i += 64)
            {
                acc += Avx512BW.SumAbsoluteDifferences(Vector512.Load((byte*)q + i) ^ Vector512.Create((byte)0x80), Vector512<byte>.Zero).AsUInt64();
            }

            biased = (long)Vector512.Sum(acc);
        }

        if (Avx2.IsSupported)
        {
            for (; i + 32 <= n; i += 32)
            {
                biased += (long)Vector256.Sum(Avx2.SumAbsoluteDifferences(Vector256.Load((byte*)q + i) ^ Vector256.Create((byte)0x80), Vector256<byte>.Zero).AsUInt64());
            }
        }

        var total = (int)(biased - 128L * i);
        for (; i < n; i++)
        {
            total += q[i];
        }

        return total;
    }
}
