using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace WrinkleFree.Inference.Tensors.Kernels.Avx2;

// This namespace's name hides the X86 Avx2 class from code inside it; the alias brings the class back.
using Avx2 = System.Runtime.Intrinsics.X86.Avx2;

/// <summary>
/// 256-bit kernels for Q8_0 weights: int8 products per 32-value block against Q8_0 activations; |w|·sign(q, w) turns the
/// signed×signed product into the unsigned×signed form vpmaddubsw/vpdpbusd take. A weight row is streamed once for up to
/// four activation rows. The AVX-VNNI variant is the same loop with the vpdpbusd step (<see cref="Vnni"/>).
/// </summary>
internal static unsafe class Q8Avx2
{
    public static void Multiply(in DenseArgs a, int start, int end) => Q8Core<MaddUbs>(a, start, end);

    public static void MultiplyVnni(in DenseArgs a, int start, int end) => Q8Core<Vnni>(a, start, end);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Q8Core<TDot>(in DenseArgs a, int start, int end)
        where TDot : struct, IByteDot
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

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Q8Row4<TDot>(byte* row, int blocks, float* d, in DenseArgs a, int b, int r)
        where TDot : struct, IByteDot
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
}
