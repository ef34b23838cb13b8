using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace WrinkleFree.Inference.Models;

/// <summary>
/// IEEE half ↔ float conversions for the KV cache, vectorized with integer operations. .NET 10 exposes no vcvtph2ps /
/// vcvtps2ph intrinsic, and System.Numerics.Tensors' converters start in the JIT's unoptimized tier (see
/// <see cref="HotMath"/>); warm, its half → float ran at 0.09-0.17 ns a value here against 0.047 for this one. So both
/// directions are written by hand, and compiled fully optimized from the first call.
/// </summary>
/// <remarks>
/// Both directions are exact where IEEE says so: half → float is exact for every value (zeros, subnormals, infinities and
/// NaNs included), and float → half rounds to nearest even, overflowing to infinity, as <c>(Half)x</c> does. The tests compare
/// them with those casts over every half and over random and edge-case floats.
/// </remarks>
internal static unsafe class HalfMath
{
    // 2^112: a half's exponent and mantissa bits shifted into a float's place read as the value times 2^-112.
    private const uint ScaleUp = (127 + 112) << 23;

    /// <summary>
    /// destination[i] = (float)source[i] for i in [0, count). With <paramref name="next"/> set, the same span there is
    /// prefetched as this one is read: attention converts a KV head's pages one after another, each a 16 KB run in its own
    /// 5 MB page, too short for the hardware prefetcher to get ahead of.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ToSingle(Half* source, float* destination, int count, Half* next = null)
    {
        var i = 0;
        var src = (ushort*)source;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i + 32 <= count; i += 32)
            {
                if (next != null)
                {
                    System.Runtime.Intrinsics.X86.Sse.Prefetch0(next + i);
                }

                var (lower, upper) = Vector512.Widen(Vector512.Load(src + i));
                Widen(lower).Store(destination + i);
                Widen(upper).Store(destination + i + 16);
            }
        }

        if (Vector256.IsHardwareAccelerated)
        {
            for (; i + 16 <= count; i += 16)
            {
                if (next != null && (i & 31) == 0 && System.Runtime.Intrinsics.X86.Sse.IsSupported)
                {
                    System.Runtime.Intrinsics.X86.Sse.Prefetch0(next + i);
                }

                var (lower, upper) = Vector256.Widen(Vector256.Load(src + i));
                Widen(lower).Store(destination + i);
                Widen(upper).Store(destination + i + 8);
            }
        }

        for (; i < count; i++)
        {
            destination[i] = (float)source[i];
        }
    }

    /// <summary>destination[i] = (Half)source[i], rounded to nearest even.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ToHalf(ReadOnlySpan<float> source, Span<Half> destination)
    {
        if (destination.Length < source.Length)
        {
            throw new ArgumentException("destination is shorter than source", nameof(destination));
        }

        fixed (float* s = source)
        fixed (Half* d = destination)
        {
            var dst = (ushort*)d;
            var i = 0;
            if (Vector512.IsHardwareAccelerated)
            {
                for (; i + 16 <= source.Length; i += 16)
                {
                    // vpmovdw keeps each lane's low 16 bits.
                    System.Runtime.Intrinsics.X86.Avx512F.ConvertToVector256UInt16(Narrow(Vector512.Load((uint*)s + i))).Store(dst + i);
                }
            }

            if (Vector256.IsHardwareAccelerated)
            {
                for (; i + 16 <= source.Length; i += 16)
                {
                    var lower = Narrow(Vector256.Load((uint*)s + i));
                    var upper = Narrow(Vector256.Load((uint*)s + i + 8));
                    Vector256.Narrow(lower, upper).Store(dst + i);
                }
            }

            for (; i < source.Length; i++)
            {
                d[i] = (Half)s[i];
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Widen(Vector512<uint> h)
    {
        var magnitude = h & Vector512.Create(0x7FFFu);
        // Normal and subnormal halves alike: the shifted bits times 2^112 are the value (a subnormal half lands on a subnormal
        // float, which the multiply normalizes exactly).
        var value = (magnitude << 13).AsSingle() * Vector512.Create(ScaleUp).AsSingle();
        // Infinity and NaN: the exponent field becomes all ones, the mantissa (NaN payload) stays.
        var special = Vector512.GreaterThanOrEqual(magnitude, Vector512.Create(0x7C00u)) & Vector512.Create(0x7F800000u);
        return (value.AsUInt32() | special | ((h << 16) & Vector512.Create(0x80000000u))).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Widen(Vector256<uint> h)
    {
        var magnitude = h & Vector256.Create(0x7FFFu);
        var value = (magnitude << 13).AsSingle() * Vector256.Create(ScaleUp).AsSingle();
        var special = Vector256.GreaterThanOrEqual(magnitude, Vector256.Create(0x7C00u)) & Vector256.Create(0x7F800000u);
        return (value.AsUInt32() | special | ((h << 16) & Vector256.Create(0x80000000u))).AsSingle();
    }

    /// <summary>Sixteen floats' bits to half bits in the low 16 bits of each lane (as the eight-lane form below).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<uint> Narrow(Vector512<uint> f)
    {
        var sign = (f >> 16) & Vector512.Create(0x8000u);
        var a = f & Vector512.Create(0x7FFFFFFFu);
        var odd = (a >> 13) & Vector512<uint>.One;
        var normal = (a + Vector512.Create(unchecked((uint)((15 - 127) << 23) + 0xFFFu)) + odd) >> 13;
        var magic = Vector512.Create(126u << 23);
        var subnormal = (a.AsSingle() + magic.AsSingle()).AsUInt32() - magic;
        var overflow = Vector512.Create(0x7C00u) | (Vector512.GreaterThan(a, Vector512.Create(0x7F800000u)) & Vector512.Create(0x0200u));
        var result = Vector512.ConditionalSelect(Vector512.LessThan(a, Vector512.Create(113u << 23)), subnormal, normal);
        result = Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(a, Vector512.Create(0x477FF000u)), overflow, result);
        return result | sign;
    }

    /// <summary>Eight floats' bits to half bits in the low 16 bits of each lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<uint> Narrow(Vector256<uint> f)
    {
        var sign = (f >> 16) & Vector256.Create(0x8000u);
        var a = f & Vector256.Create(0x7FFFFFFFu);

        // Normal results (|x| ≥ 2^-14): rebias the exponent, then round the 13 dropped bits to nearest even.
        var odd = (a >> 13) & Vector256<uint>.One;
        var normal = (a + Vector256.Create(unchecked((uint)((15 - 127) << 23) + 0xFFFu)) + odd) >> 13;

        // Subnormal results and zero: adding 0.5 (as a float) makes the FPU round the value to a multiple of 2^-24 (nearest
        // even), and the low bits of the sum are then the half's mantissa.
        var magic = Vector256.Create(126u << 23);
        var subnormal = (a.AsSingle() + magic.AsSingle()).AsUInt32() - magic;

        // At or above 65520 the value rounds to infinity; NaN stays a (quiet) NaN.
        var overflow = Vector256.Create(0x7C00u) | (Vector256.GreaterThan(a, Vector256.Create(0x7F800000u)) & Vector256.Create(0x0200u));
        var result = Vector256.ConditionalSelect(Vector256.LessThan(a, Vector256.Create(113u << 23)), subnormal, normal);
        result = Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(a, Vector256.Create(0x477FF000u)), overflow, result);
        return result | sign;
    }
}
