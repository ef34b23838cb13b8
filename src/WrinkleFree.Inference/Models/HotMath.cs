using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace WrinkleFree.Inference.Models;

/// <summary>
/// The small vector operations a forward step calls thousands of times (per token, per head, per cached position): the
/// RMS norm, attention's dot products, softmax and weighted sums, the residual adds and the squared-ReLU gate. They are written here rather than called from
/// System.Numerics.Tensors because that package's code starts in the JIT's unoptimized tier and is only recompiled after a
/// delay, so the first long prompt after a load ran them unoptimized (a third of its time on the 700m shape); these are
/// compiled fully optimized on their first call. Vector256 covers AVX2 and AVX-512 hosts alike (the rows are 64 to
/// 8192 floats; width is not what limits them).
/// </summary>
internal static class HotMath
{
    /// <summary>Σ x².</summary>
    public static float SumOfSquares(ReadOnlySpan<float> x) => Dot(x, x);

    /// <summary>destination = (x · scale) · weight, element-wise (x and destination may be the same span).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ScaleBy(ReadOnlySpan<float> x, float scale, ReadOnlySpan<float> weight, Span<float> destination)
    {
        if (weight.Length != x.Length || destination.Length != x.Length)
        {
            throw new ArgumentException("x, weight and destination must have the same length");
        }

        ref var px = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(x);
        ref var pw = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(weight);
        ref var pd = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(destination);
        var i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var s = Vector256.Create(scale);
            for (; i + 8 <= x.Length; i += 8)
            {
                (Vector256.LoadUnsafe(ref px, (nuint)i) * s * Vector256.LoadUnsafe(ref pw, (nuint)i)).StoreUnsafe(ref pd, (nuint)i);
            }
        }

        for (; i < x.Length; i++)
        {
            destination[i] = x[i] * scale * weight[i];
        }
    }

    /// <summary>Σ a·b over equal-length spans.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (b.Length != a.Length)
        {
            throw new ArgumentException("a and b must have the same length");
        }

        ref var pa = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(a);
        ref var pb = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(b);
        var i = 0;
        var sum = 0f;
        if (Vector256.IsHardwareAccelerated && a.Length >= 16)
        {
            Vector256<float> a0 = default, a1 = default;
            for (; i + 16 <= a.Length; i += 16)
            {
                a0 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref pa, (nuint)i), Vector256.LoadUnsafe(ref pb, (nuint)i), a0);
                a1 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref pa, (nuint)i + 8), Vector256.LoadUnsafe(ref pb, (nuint)i + 8), a1);
            }

            sum = Vector256.Sum(a0 + a1);
        }

        for (; i < a.Length; i++)
        {
            sum += a[i] * b[i];
        }

        return sum;
    }

    /// <summary>destination += x · w.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AddScaled(ReadOnlySpan<float> x, float w, Span<float> destination)
    {
        if (destination.Length != x.Length)
        {
            throw new ArgumentException("x and destination must have the same length");
        }

        ref var px = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(x);
        ref var pd = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(destination);
        var i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var s = Vector256.Create(w);
            for (; i + 8 <= x.Length; i += 8)
            {
                Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref px, (nuint)i), s, Vector256.LoadUnsafe(ref pd, (nuint)i)).StoreUnsafe(ref pd, (nuint)i);
            }
        }

        for (; i < x.Length; i++)
        {
            destination[i] += x[i] * w;
        }
    }

    /// <summary>
    /// In-place softmax of <paramref name="x"/> (the maximum subtracted first). The exponentials are summed in two 8-lane
    /// accumulators over alternate 8-value blocks, then <see cref="Vector256.Sum"/> of their sum, then the values past the
    /// last block one by one: one 16-lane accumulator is the two at once, so hosts with and without 512-bit vectors get the
    /// same bits (and attention's softmax over 16 × 513 scores runs half the instructions where they have them).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void SoftMax(Span<float> x)
    {
        ref var p = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(x);
        var n = x.Length;
        var max = float.NegativeInfinity;
        var i = 0;
        if (Vector256.IsHardwareAccelerated && n >= 8)
        {
            var m = Vector256.Create(float.NegativeInfinity);
            if (Vector512.IsHardwareAccelerated)
            {
                var wide = Vector512.Create(float.NegativeInfinity);
                for (; i + 16 <= n; i += 16)
                {
                    wide = Vector512.Max(wide, Vector512.LoadUnsafe(ref p, (nuint)i));
                }

                m = Vector256.Max(wide.GetLower(), wide.GetUpper());
            }

            for (; i + 8 <= n; i += 8)
            {
                m = Vector256.Max(m, Vector256.LoadUnsafe(ref p, (nuint)i));
            }

            for (var j = 0; j < Vector256<float>.Count; j++)
            {
                max = MathF.Max(max, m[j]);
            }
        }

        for (; i < n; i++)
        {
            max = MathF.Max(max, x[i]);
        }

        var sum = 0f;
        i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var vmax = Vector256.Create(max);
            Vector256<float> a = default, b = default;
            if (Vector512.IsHardwareAccelerated)
            {
                var wmax = Vector512.Create(max);
                var acc = Vector512<float>.Zero;
                for (; i + 16 <= n; i += 16)
                {
                    var e = Exp(Vector512.LoadUnsafe(ref p, (nuint)i) - wmax);
                    e.StoreUnsafe(ref p, (nuint)i);
                    acc += e;
                }

                a = acc.GetLower();
                b = acc.GetUpper();
            }
            else
            {
                for (; i + 16 <= n; i += 16)
                {
                    var e0 = Exp(Vector256.LoadUnsafe(ref p, (nuint)i) - vmax);
                    var e1 = Exp(Vector256.LoadUnsafe(ref p, (nuint)(i + 8)) - vmax);
                    e0.StoreUnsafe(ref p, (nuint)i);
                    e1.StoreUnsafe(ref p, (nuint)(i + 8));
                    a += e0;
                    b += e1;
                }
            }

            if (i + 8 <= n)
            {
                var e = Exp(Vector256.LoadUnsafe(ref p, (nuint)i) - vmax);
                e.StoreUnsafe(ref p, (nuint)i);
                a += e;
                i += 8;
            }

            sum = Vector256.Sum(a + b);
        }

        for (; i < n; i++)
        {
            x[i] = MathF.Exp(x[i] - max);
            sum += x[i];
        }

        Scale(x, 1f / sum);
    }

    /// <summary>
    /// max |x| (NaN if any element is NaN, as TensorPrimitives.MaxMagnitude gives): the unsigned maximum of the values' bit
    /// patterns with the sign bit cleared, which orders every finite value, infinity, then NaN exactly.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float MaxAbs(ReadOnlySpan<float> x)
    {
        ref var p = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(x);
        var i = 0;
        var best = 0u;
        if (Vector256.IsHardwareAccelerated && x.Length >= 8)
        {
            var mask = Vector256.Create(0x7FFF_FFFFu);
            var acc = Vector256<uint>.Zero;
            for (; i + 8 <= x.Length; i += 8)
            {
                acc = Vector256.Max(acc, Vector256.LoadUnsafe(ref p, (nuint)i).AsUInt32() & mask);
            }

            for (var lane = 0; lane < 8; lane++)
            {
                best = Math.Max(best, acc.GetElement(lane));
            }
        }

        for (; i < x.Length; i++)
        {
            best = Math.Max(best, BitConverter.SingleToUInt32Bits(x[i]) & 0x7FFF_FFFFu);
        }

        return BitConverter.UInt32BitsToSingle(best);
    }

    /// <summary>x ·= s.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Scale(Span<float> x, float s)
    {
        ref var p = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(x);
        var i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var v = Vector256.Create(s);
            for (; i + 8 <= x.Length; i += 8)
            {
                (Vector256.LoadUnsafe(ref p, (nuint)i) * v).StoreUnsafe(ref p, (nuint)i);
            }
        }

        for (; i < x.Length; i++)
        {
            x[i] *= s;
        }
    }

    /// <summary>x += y.</summary>
    public static void Add(Span<float> x, ReadOnlySpan<float> y) => Combine<Sum>(x, y);

    /// <summary>up = relu(gate)² · up, element-wise (gate is left as it was).</summary>
    public static void ReluSquaredGate(ReadOnlySpan<float> gate, Span<float> up) => Combine<ReluSquared>(up, gate);

    /// <summary>up = silu(gate) · up = gate · sigmoid(gate) · up, element-wise (gate is left as it was).</summary>
    public static void SiluGate(ReadOnlySpan<float> gate, Span<float> up) => Combine<Silu>(up, gate);

    /// <summary>
    /// e^x, 8 lanes: x = n·ln2 + r with |r| ≤ ln2/2 (ln2 in two parts, so r keeps its low bits), e^r by a degree-6 Taylor
    /// polynomial (relative error under 1e-6), 2^n put straight into the exponent bits. Below −87.3 the result is 0, above
    /// 88.72 infinity (between 88.3 and 88.72 it stays at e^88.3). Inlined, so the softmax and the SiLU gate are one
    /// optimized method each from their first call. Measured alone it changed nothing: the slow first attention (194-213
    /// ms against 55 warm) was the KV accessors, fixed by inlining them (KvSequence).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> Exp(Vector256<float> x)
    {
        var clamped = Vector256.Min(Vector256.Max(x, Vector256.Create(-87.3f)), Vector256.Create(88.3f));
        var n = Vector256.Round(clamped * Vector256.Create(1.44269504088896341f));
        var r = clamped - (n * Vector256.Create(0.693359375f));
        r -= n * Vector256.Create(-2.12194440e-4f);
        var p = Vector256.Create(1f / 720);
        p = (p * r) + Vector256.Create(1f / 120);
        p = (p * r) + Vector256.Create(1f / 24);
        p = (p * r) + Vector256.Create(1f / 6);
        p = (p * r) + Vector256.Create(0.5f);
        p = (p * r) + Vector256<float>.One;
        p = (p * r) + Vector256<float>.One;
        var scale = (Vector256.ConvertToInt32(n) + Vector256.Create(127)) << 23;
        var result = p * scale.AsSingle();
        result = Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256.Create(-87.3f)), Vector256<float>.Zero, result);
        return Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256.Create(88.72f)), Vector256.Create(float.PositiveInfinity), result);
    }

    /// <summary><see cref="Exp(Vector256{float})"/> on 16 lanes, with the same operations lane by lane (the same bits).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> Exp(Vector512<float> x)
    {
        var clamped = Vector512.Min(Vector512.Max(x, Vector512.Create(-87.3f)), Vector512.Create(88.3f));
        var n = Vector512.Round(clamped * Vector512.Create(1.44269504088896341f));
        var r = clamped - (n * Vector512.Create(0.693359375f));
        r -= n * Vector512.Create(-2.12194440e-4f);
        var p = Vector512.Create(1f / 720);
        p = (p * r) + Vector512.Create(1f / 120);
        p = (p * r) + Vector512.Create(1f / 24);
        p = (p * r) + Vector512.Create(1f / 6);
        p = (p * r) + Vector512.Create(0.5f);
        p = (p * r) + Vector512<float>.One;
        p = (p * r) + Vector512<float>.One;
        var scale = (Vector512.ConvertToInt32(n) + Vector512.Create(127)) << 23;
        var result = p * scale.AsSingle();
        result = Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512.Create(-87.3f)), Vector512<float>.Zero, result);
        return Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512.Create(88.72f)), Vector512.Create(float.PositiveInfinity), result);
    }

    /// <summary>x = TOp(x, y) element-wise, 8 lanes at a time and the rest one by one.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Combine<TOp>(Span<float> x, ReadOnlySpan<float> y)
        where TOp : struct, IElementOp
    {
        if (y.Length != x.Length)
        {
            throw new ArgumentException($"the two spans must have the same length ({x.Length} and {y.Length})");
        }

        ref var px = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(x);
        ref var py = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(y);
        var i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i + 8 <= x.Length; i += 8)
            {
                TOp.Apply(Vector256.LoadUnsafe(ref px, (nuint)i), Vector256.LoadUnsafe(ref py, (nuint)i)).StoreUnsafe(ref px, (nuint)i);
            }
        }

        for (; i < x.Length; i++)
        {
            x[i] = TOp.Apply(x[i], y[i]);
        }
    }

    /// <summary>One element-wise operation in its vector and scalar forms (a struct type argument, so the JIT specializes each).</summary>
    private interface IElementOp
    {
        static abstract Vector256<float> Apply(Vector256<float> x, Vector256<float> y);

        static abstract float Apply(float x, float y);
    }

    private readonly struct Sum : IElementOp
    {
        public static Vector256<float> Apply(Vector256<float> x, Vector256<float> y) => x + y;

        public static float Apply(float x, float y) => x + y;
    }

    private readonly struct ReluSquared : IElementOp
    {
        public static Vector256<float> Apply(Vector256<float> up, Vector256<float> gate)
        {
            var g = Vector256.Max(gate, Vector256<float>.Zero);
            return up * (g * g);
        }

        public static float Apply(float up, float gate)
        {
            var g = MathF.Max(gate, 0f);
            return up * (g * g);
        }
    }

    private readonly struct Silu : IElementOp
    {
        public static Vector256<float> Apply(Vector256<float> up, Vector256<float> gate) =>
            up * gate * (Vector256<float>.One / (Vector256<float>.One + Exp(-gate)));

        public static float Apply(float up, float gate) => up * (gate / (1f + MathF.Exp(-gate)));
    }
}
