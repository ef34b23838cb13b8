using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using WrinkleFree.Inference.Tensors.Kernels.Scalar;

namespace WrinkleFree.Inference.Tensors.Kernels.Avx2;

// This namespace's name hides the X86 Avx2 class from code inside it; the alias brings the class back.
using Avx2 = System.Runtime.Intrinsics.X86.Avx2;

/// <summary>
/// 256-bit ternary kernels on natural-order activations: one 32-byte load is one I2_S block (or half a TQ2_0 block), and
/// the int8 products go through either vpmaddubsw+vpmaddwd (AVX2) or a single VEX vpdpbusd (AVX-VNNI).
/// </summary>
internal static unsafe class TernaryAvx2
{
    public static void I2S(in TernaryArgs a, int start, int end) => I2SCore<MaddUbs>(a, start, end);

    public static void I2SVnni(in TernaryArgs a, int start, int end) => I2SCore<Vnni>(a, start, end);

    public static void TQ2(in TernaryArgs a, int start, int end) => TQ2Core<MaddUbs>(a, start, end);

    public static void TQ2Vnni(in TernaryArgs a, int start, int end) => TQ2Core<Vnni>(a, start, end);

    /// <summary>Σ code·q over one 128-value I2_S block (the odd block after the 256-value chunks of the AVX-512 path).</summary>
    internal static int I2STail(byte* block, sbyte* q) => Vector256.Sum(I2SBlock<MaddUbs>(Vector256<int>.Zero, block, q));

    /// <summary>
    /// (Σ_k d_k·Σ code·q − Σ_k d_k·Σ q) · act_scale, the output of the TQ2_0/TQ1_0 kernels (AVX2 and AVX-512): the q sums
    /// are precomputed per block, so codes need no −1.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float BlockedOutput(float codeDot, float* d, in TernaryArgs a, int b)
    {
        var sums = a.BlockSum + b * a.Blocks;
        var correction = 0f;
        for (var k = 0; k < a.Columns >> 8; k++)
        {
            correction += d[k] * sums[k];
        }

        return (codeDot - correction) * a.ActScale[b];
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void I2SCore<TDot>(in TernaryArgs a, int start, int end)
        where TDot : struct, IByteDot
    {
        var rowBytes = a.Columns >> 2;
        var blocks = a.Columns >> 7;
        for (var r = start; r < end; r++)
        {
            var row = a.Weights + (long)r * rowBytes;
            for (var b = 0; b < a.Batch; b++)
            {
                var q = a.Q + (long)b * a.Stride;
                // Two accumulator chains: vpdpbusd accumulates in place, so one chain would be bound by its latency.
                Vector256<int> acc0 = default, acc1 = default;
                var k = 0;
                for (; k + 2 <= blocks; k += 2)
                {
                    acc0 = I2SBlock<TDot>(acc0, row + k * 32, q + k * 128);
                    acc1 = I2SBlock<TDot>(acc1, row + (k + 1) * 32, q + (k + 1) * 128);
                }

                if (k < blocks)
                {
                    acc0 = I2SBlock<TDot>(acc0, row + k * 32, q + k * 128);
                }

                a.Y[(long)b * a.Rows + r] = ScalarKernels.I2SOutput(Vector256.Sum(acc0 + acc1), a.RowSum[b], a.ActScale[b], a.ScaleOf(r));
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> I2SBlock<TDot>(Vector256<int> acc, byte* block, sbyte* q)
        where TDot : struct, IByteDot
    {
        var mask = Vector256.Create((byte)3);
        var w = Vector256.Load(block).AsUInt16();
        acc = TDot.Add(acc, Avx2.ShiftRightLogical(w, 6).AsByte() & mask, Vector256.Load(q));
        acc = TDot.Add(acc, Avx2.ShiftRightLogical(w, 4).AsByte() & mask, Vector256.Load(q + 32));
        acc = TDot.Add(acc, Avx2.ShiftRightLogical(w, 2).AsByte() & mask, Vector256.Load(q + 64));
        return TDot.Add(acc, w.AsByte() & mask, Vector256.Load(q + 96));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TQ2Core<TDot>(in TernaryArgs a, int start, int end)
        where TDot : struct, IByteDot
    {
        var blocks = a.Columns >> 8;
        var rowBytes = blocks * BlockDecoders.TQ2BlockBytes;
        var scales = blocks <= 256 ? stackalloc float[blocks] : new float[blocks];
        var mask = Vector256.Create((byte)3);
        fixed (float* d = scales)
        {
            for (var r = start; r < end; r++)
            {
                var row = a.Weights + (long)r * rowBytes;
                BlockDecoders.Halves(row + 64, BlockDecoders.TQ2BlockBytes, blocks, d);

                for (var b = 0; b < a.Batch; b++)
                {
                    var q = a.Q + (long)b * a.Stride;
                    var acc = Vector256<float>.Zero;
                    for (var k = 0; k < blocks; k++)
                    {
                        var block = row + k * BlockDecoders.TQ2BlockBytes;
                        var p = q + k * 256;
                        var dot = Vector256<int>.Zero;
                        for (var half = 0; half < 2; half++)
                        {
                            var w = Vector256.Load(block + half * 32).AsUInt16();
                            var ph = p + half * 128;
                            dot = TDot.Add(dot, w.AsByte() & mask, Vector256.Load(ph));
                            dot = TDot.Add(dot, Avx2.ShiftRightLogical(w, 2).AsByte() & mask, Vector256.Load(ph + 32));
                            dot = TDot.Add(dot, Avx2.ShiftRightLogical(w, 4).AsByte() & mask, Vector256.Load(ph + 64));
                            dot = TDot.Add(dot, Avx2.ShiftRightLogical(w, 6).AsByte() & mask, Vector256.Load(ph + 96));
                        }

                        acc = Fma.MultiplyAdd(Avx.ConvertToVector256Single(dot), Vector256.Create(d[k]), acc);
                    }

                    a.Y[(long)b * a.Rows + r] = BlockedOutput(Vector256.Sum(acc), d, a, b);
                }
            }
        }
    }
}
