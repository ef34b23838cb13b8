using System.Runtime.CompilerServices;

namespace WrinkleFree.Inference.Tensors.Kernels.Scalar;

/// <summary>
/// The plain reference for every kernel: one value at a time, straight from the layout decoders. Slow on purpose; the SIMD
/// kernels are tested against it (bit-exact where the arithmetic is integer).
/// </summary>
internal static unsafe class ScalarKernels
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void I2S(in TernaryArgs a, int start, int end)
    {
        var rowBytes = a.Columns / 4;
        for (var r = start; r < end; r++)
        {
            var row = a.Weights + (long)r * rowBytes;
            for (var b = 0; b < a.Batch; b++)
            {
                var q = a.Q + (long)b * a.Stride;
                var dot = 0;
                for (var i = 0; i < a.Columns; i++)
                {
                    dot += BlockDecoders.I2SCode(row, i) * q[i];
                }

                a.Y[(long)b * a.Rows + r] = I2SOutput(dot, a.RowSum[b], a.ActScale[b], a.ScaleOf(r));
            }
        }
    }

    /// <summary>The one float expression every I2_S path uses, so their outputs agree bit for bit.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float I2SOutput(int dot, int sumQ, float actScale, float weightScale) => (dot - sumQ) * (actScale * weightScale);

    public static void TQ2(in TernaryArgs a, int start, int end) => Blocked(a, start, end, BlockDecoders.TQ2BlockBytes, tq1: false);

    public static void TQ1(in TernaryArgs a, int start, int end) => Blocked(a, start, end, BlockDecoders.TQ1BlockBytes, tq1: true);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Blocked(in TernaryArgs a, int start, int end, int blockBytes, bool tq1)
    {
        var blocks = a.Columns / 256;
        for (var r = start; r < end; r++)
        {
            var row = a.Weights + (long)r * blocks * blockBytes;
            for (var b = 0; b < a.Batch; b++)
            {
                var q = a.Q + (long)b * a.Stride;
                var acc = 0f;
                for (var k = 0; k < blocks; k++)
                {
                    var block = row + k * blockBytes;
                    var dot = 0;
                    for (var p = 0; p < 256; p++)
                    {
                        var code = tq1 ? BlockDecoders.TQ1Code(block, p) : BlockDecoders.TQ2Code(block, p);
                        dot += code * q[k * 256 + p];
                    }

                    var d = BlockDecoders.Half(block + blockBytes - 2);
                    acc += (dot - a.BlockSum[b * a.Blocks + k]) * d;
                }

                a.Y[(long)b * a.Rows + r] = acc * a.ActScale[b];
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Q8_0(in DenseArgs a, int start, int end)
    {
        var blocks = a.Columns / 32;
        for (var r = start; r < end; r++)
        {
            var row = a.Weights + (long)r * blocks * BlockDecoders.Q8BlockBytes;
            for (var b = 0; b < a.Batch; b++)
            {
                var q = a.Q8 + (long)b * a.Q8Stride;
                var acc = 0f;
                for (var k = 0; k < blocks; k++)
                {
                    var block = row + k * BlockDecoders.Q8BlockBytes;
                    var dot = 0;
                    for (var j = 0; j < 32; j++)
                    {
                        dot += (sbyte)block[2 + j] * q[k * 32 + j];
                    }

                    acc += dot * (BlockDecoders.Half(block) * a.Q8Scale[b * a.Q8Blocks + k]);
                }

                a.Y[(long)b * a.Rows + r] = acc;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void F32(in DenseArgs a, int start, int end)
    {
        for (var r = start; r < end; r++)
        {
            var row = (float*)a.Weights + (long)r * a.Columns;
            for (var b = 0; b < a.Batch; b++)
            {
                var x = a.X + (long)b * a.Columns;
                var acc = 0f;
                for (var i = 0; i < a.Columns; i++)
                {
                    acc += row[i] * x[i];
                }

                a.Y[(long)b * a.Rows + r] = acc;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void F16(in DenseArgs a, int start, int end)
    {
        for (var r = start; r < end; r++)
        {
            var row = a.Weights + (long)r * a.Columns * 2;
            for (var b = 0; b < a.Batch; b++)
            {
                var x = a.X + (long)b * a.Columns;
                var acc = 0f;
                for (var i = 0; i < a.Columns; i++)
                {
                    acc += BlockDecoders.Half(row + 2 * i) * x[i];
                }

                a.Y[(long)b * a.Rows + r] = acc;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void BF16(in DenseArgs a, int start, int end)
    {
        for (var r = start; r < end; r++)
        {
            var row = (ushort*)a.Weights + (long)r * a.Columns;
            for (var b = 0; b < a.Batch; b++)
            {
                var x = a.X + (long)b * a.Columns;
                var acc = 0f;
                for (var i = 0; i < a.Columns; i++)
                {
                    acc += BlockDecoders.BFloat16(row[i]) * x[i];
                }

                a.Y[(long)b * a.Rows + r] = acc;
            }
        }
    }
}
