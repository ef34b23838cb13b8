using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using WrinkleFree.Inference.Tensors.Kernels.Avx2;
using WrinkleFree.Inference.Tensors.Kernels.Scalar;

namespace WrinkleFree.Inference.Tensors.Kernels.Avx512;

// The sibling namespace Kernels.Avx2 hides the X86 Avx2 class from code here; the alias brings the class back.
using Avx2 = System.Runtime.Intrinsics.X86.Avx2;

/// <summary>
/// AVX-512BW ternary kernels. One 64-byte load holds 256 codes (two I2_S blocks or one TQ2_0 block's qs); shifting by
/// 6/4/2/0 (TQ2_0: 0/2/4/6) and masking yields four vectors of codes that line up with the interleaved activations, and
/// vpmaddubsw multiplies the unsigned codes (0..2) by the int8 activations. Codes × |q| ≤ 127 cannot saturate 16 bits, so
/// up to 16 chunks are summed in 16-bit lanes before one widening vpmaddwd.
/// </summary>
internal static unsafe class TernaryAvx512
{
    // 16 chunks × 4 products × 2 × 2 × 127 = 32512 < 32767.
    private const int ChunksPer16BitRun = 16;

    /// <summary>The I2_S GEMV (decode); batches go through <see cref="TernaryGemmAvx512"/>, which calls this for batch 1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void I2S(in TernaryArgs a, int start, int end)
    {
        var rowBytes = a.Columns >> 2;
        var chunks = a.Columns >> 8;
        var hasTail = (a.Columns & 255) != 0;
        if (a.Batch == 1 && end - start >= 2)
        {
            // Decode: the range's two halves are walked side by side, row start + i with row start + half + i, so each
            // thread keeps two independent memory streams in flight. Measured (kernels, alternating, from DRAM): q/o,
            // gate/up and down 12-28 % faster at 1 and 2 threads (k/v, 640 rows, 1-11 %), the GEMV at 90-94 % of the read
            // probe on one thread against 72-79 %; decode steps 8-10 % shorter on one thread (profile).
            var half = (end - start) / 2;
            for (var i = 0; i < half; i++)
            {
                var r0 = start + i;
                var r1 = start + half + i;
                var w0 = a.Weights + (long)r0 * rowBytes;
                var w1 = a.Weights + (long)r1 * rowBytes;
                I2SDot1x2(w0, w1, chunks, a.QInterleaved, out var d0, out var d1);
                StoreRow(a, r0, w0, 0, d0, hasTail, chunks);
                StoreRow(a, r1, w1, 0, d1, hasTail, chunks);
            }

            start += 2 * half;
        }

        for (var r = start; r < end; r++)
        {
            var row = a.Weights + (long)r * rowBytes;
            for (var b = 0; b < a.Batch; b++)
            {
                StoreRow(a, r, row, b, I2SDot1(row, chunks, a.QInterleaved + (long)b * a.Stride), hasTail, chunks);
            }
        }
    }

    /// <summary>
    /// Output (row <paramref name="r"/>, token <paramref name="b"/>) from the whole chunks' dot: the half-chunk tail's
    /// products added when the row has one, then the I2_S scaling of <see cref="ScalarKernels.I2SOutput"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void StoreRow(in TernaryArgs a, int r, byte* row, int b, int dot, bool hasTail, int chunks)
    {
        if (hasTail)
        {
            dot += TernaryAvx2.I2STail(row + chunks * 64, a.Q + (long)b * a.Stride + chunks * 256);
        }

        a.Y[(long)b * a.Rows + r] = ScalarKernels.I2SOutput(dot, a.RowSum[b], a.ActScale[b], a.ScaleOf(r));
    }

    /// <summary>Σ code·q over the whole 256-value chunks of one I2_S row.</summary>
    /// <remarks>
    /// Two chunks per step into two 16-bit sums, so the loop carries two independent add chains and half the loop
    /// overhead. Measured in one process, interleaved rounds, 6912 × 2560 on 1 thread: 18-21 % faster from cache, 3-4 %
    /// from DRAM; whole decode steps (profile) did not move beyond the host's noise.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static int I2SDot1(byte* row, int chunks, sbyte* qi)
    {
        var ones = Vector512.Create((short)1);
        var acc = Vector512<int>.Zero;
        var k = 0;
        while (k < chunks)
        {
            var stop = Math.Min(chunks, k + ChunksPer16BitRun);
            var even = Vector512<short>.Zero;
            var odd = Vector512<short>.Zero;
            for (; k + 2 <= stop; k += 2)
            {
                even += Chunk(row + k * 64, qi + k * 256);
                odd += Chunk(row + k * 64 + 64, qi + k * 256 + 256);
            }

            if (k < stop)
            {
                even += Chunk(row + k * 64, qi + k * 256);
                k++;
            }

            acc += Avx512BW.MultiplyAddAdjacent(even, ones) + Avx512BW.MultiplyAddAdjacent(odd, ones);
        }

        return Vector512.Sum(acc);
    }

    /// <summary>Σ code·q over the whole chunks of two I2_S rows against one token, the rows' loads interleaved.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void I2SDot1x2(byte* row0, byte* row1, int chunks, sbyte* qi, out int d0, out int d1)
    {
        var ones = Vector512.Create((short)1);
        var acc0 = Vector512<int>.Zero;
        var acc1 = Vector512<int>.Zero;
        var k = 0;
        while (k < chunks)
        {
            var stop = Math.Min(chunks, k + ChunksPer16BitRun);
            var s0 = Vector512<short>.Zero;
            var s1 = Vector512<short>.Zero;
            for (; k < stop; k++)
            {
                s0 += Chunk(row0 + k * 64, qi + k * 256);
                s1 += Chunk(row1 + k * 64, qi + k * 256);
            }

            acc0 += Avx512BW.MultiplyAddAdjacent(s0, ones);
            acc1 += Avx512BW.MultiplyAddAdjacent(s1, ones);
        }

        d0 = Vector512.Sum(acc0);
        d1 = Vector512.Sum(acc1);
    }

    /// <summary>One 64-byte chunk (256 codes) against its 256 interleaved activations, as 16-bit pair sums.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<short> Chunk(byte* w, sbyte* p)
    {
        var mask = Vector512.Create((byte)3);
        var u = Vector512.Load(w).AsUInt16();
        return Dot4(
            Avx512BW.ShiftRightLogical(u, 6).AsByte() & mask,
            Avx512BW.ShiftRightLogical(u, 4).AsByte() & mask,
            Avx512BW.ShiftRightLogical(u, 2).AsByte() & mask,
            u.AsByte() & mask,
            p);
    }

    /// <summary>Four activation rows against one weight row: the codes are unpacked once and used four times.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void I2SDot4(byte* row, int chunks, sbyte* qi, int stride, out int d0, out int d1, out int d2, out int d3)
    {
        var mask = Vector512.Create((byte)3);
        var ones = Vector512.Create((short)1);
        Vector512<int> a0 = default, a1 = default, a2 = default, a3 = default;
        var k = 0;
        while (k < chunks)
        {
            var stop = Math.Min(chunks, k + ChunksPer16BitRun);
            Vector512<short> s0 = default, s1 = default, s2 = default, s3 = default;
            for (; k < stop; k++)
            {
                var w = Vector512.Load(row + k * 64).AsUInt16();
                var c0 = Avx512BW.ShiftRightLogical(w, 6).AsByte() & mask;
                var c1 = Avx512BW.ShiftRightLogical(w, 4).AsByte() & mask;
                var c2 = Avx512BW.ShiftRightLogical(w, 2).AsByte() & mask;
                var c3 = w.AsByte() & mask;
                var p = qi + k * 256;
                s0 += Dot4(c0, c1, c2, c3, p);
                s1 += Dot4(c0, c1, c2, c3, p + stride);
                s2 += Dot4(c0, c1, c2, c3, p + 2 * stride);
                s3 += Dot4(c0, c1, c2, c3, p + 3 * stride);
            }

            a0 += Avx512BW.MultiplyAddAdjacent(s0, ones);
            a1 += Avx512BW.MultiplyAddAdjacent(s1, ones);
            a2 += Avx512BW.MultiplyAddAdjacent(s2, ones);
            a3 += Avx512BW.MultiplyAddAdjacent(s3, ones);
        }

        d0 = Vector512.Sum(a0);
        d1 = Vector512.Sum(a1);
        d2 = Vector512.Sum(a2);
        d3 = Vector512.Sum(a3);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<short> Dot4(Vector512<byte> c0, Vector512<byte> c1, Vector512<byte> c2, Vector512<byte> c3, sbyte* p) =>
        Avx512BW.MultiplyAddAdjacent(c0, Vector512.Load(p))
        + Avx512BW.MultiplyAddAdjacent(c1, Vector512.Load(p + 64))
        + Avx512BW.MultiplyAddAdjacent(c2, Vector512.Load(p + 128))
        + Avx512BW.MultiplyAddAdjacent(c3, Vector512.Load(p + 192));

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void TQ2(in TernaryArgs a, int start, int end)
    {
        if (a.Batch == 1)
        {
            TQ2Gemv(a, start, end);
            return;
        }

        var blocks = a.Columns >> 8;
        var rowBytes = blocks * BlockDecoders.TQ2BlockBytes;
        var scales = blocks <= 256 ? stackalloc float[blocks] : new float[blocks];
        for (var r = start; r < end; r++)
        {
            var row = a.Weights + (long)r * rowBytes;
            var b = 0;
            fixed (float* d = scales)
            {
                BlockDecoders.Halves(row + 64, BlockDecoders.TQ2BlockBytes, blocks, d);
                for (; b + 4 <= a.Batch; b += 4)
                {
                    TQ2Dot4(row, blocks, d, a.QInterleaved + (long)b * a.Stride, a.Stride, out var f0, out var f1, out var f2, out var f3);
                    a.Y[(long)b * a.Rows + r] = TernaryAvx2.BlockedOutput(f0, d, a, b);
                    a.Y[(long)(b + 1) * a.Rows + r] = TernaryAvx2.BlockedOutput(f1, d, a, b + 1);
                    a.Y[(long)(b + 2) * a.Rows + r] = TernaryAvx2.BlockedOutput(f2, d, a, b + 2);
                    a.Y[(long)(b + 3) * a.Rows + r] = TernaryAvx2.BlockedOutput(f3, d, a, b + 3);
                }

                for (; b < a.Batch; b++)
                {
                    var f = TQ2Dot1(row, blocks, d, a.QInterleaved + (long)b * a.Stride);
                    a.Y[(long)b * a.Rows + r] = TernaryAvx2.BlockedOutput(f, d, a, b);
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float TQ2Dot1(byte* row, int blocks, float* d, sbyte* qi)
    {
        var mask = Vector512.Create((byte)3);
        var ones = Vector512.Create((short)1);
        // Two accumulators: one FMA chain per block would otherwise bound the loop by FMA latency.
        Vector512<float> acc0 = default, acc1 = default;
        for (var k = 0; k < blocks; k++)
        {
            var w = Vector512.Load(row + k * BlockDecoders.TQ2BlockBytes).AsUInt16();
            var c0 = w.AsByte() & mask;
            var c1 = Avx512BW.ShiftRightLogical(w, 2).AsByte() & mask;
            var c2 = Avx512BW.ShiftRightLogical(w, 4).AsByte() & mask;
            var c3 = Avx512BW.ShiftRightLogical(w, 6).AsByte() & mask;
            var s = Avx512BW.MultiplyAddAdjacent(Dot4(c0, c1, c2, c3, qi + k * 256), ones);
            if ((k & 1) == 0)
            {
                acc0 = Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(s), Vector512.Create(d[k]), acc0);
            }
            else
            {
                acc1 = Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(s), Vector512.Create(d[k]), acc1);
            }
        }

        return Vector512.Sum(acc0 + acc1);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TQ2Dot4(byte* row, int blocks, float* d, sbyte* qi, int stride, out float f0, out float f1, out float f2, out float f3)
    {
        var mask = Vector512.Create((byte)3);
        var ones = Vector512.Create((short)1);
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
        for (var k = 0; k < blocks; k++)
        {
            var w = Vector512.Load(row + k * BlockDecoders.TQ2BlockBytes).AsUInt16();
            var c0 = w.AsByte() & mask;
            var c1 = Avx512BW.ShiftRightLogical(w, 2).AsByte() & mask;
            var c2 = Avx512BW.ShiftRightLogical(w, 4).AsByte() & mask;
            var c3 = Avx512BW.ShiftRightLogical(w, 6).AsByte() & mask;
            var scale = Vector512.Create(d[k]);
            var p = qi + k * 256;
            a0 = Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(Avx512BW.MultiplyAddAdjacent(Dot4(c0, c1, c2, c3, p), ones)), scale, a0);
            a1 = Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(Avx512BW.MultiplyAddAdjacent(Dot4(c0, c1, c2, c3, p + stride), ones)), scale, a1);
            a2 = Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(Avx512BW.MultiplyAddAdjacent(Dot4(c0, c1, c2, c3, p + 2 * stride), ones)), scale, a2);
            a3 = Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(Avx512BW.MultiplyAddAdjacent(Dot4(c0, c1, c2, c3, p + 3 * stride), ones)), scale, a3);
        }

        f0 = Vector512.Sum(a0);
        f1 = Vector512.Sum(a1);
        f2 = Vector512.Sum(a2);
        f3 = Vector512.Sum(a3);
    }

    /// <summary>
    /// Batch 1 (decode). The per-row work outside the block loop is vectorized (scales gathered and widened 16 at a time, the −Σq correction
    /// folded into the accumulator), so short rows (10 blocks) are not dominated by scalar prologue and epilogue.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TQ2Gemv(in TernaryArgs a, int start, int end)
    {
        var blocks = a.Columns >> 8;
        var rowBytes = (long)blocks * BlockDecoders.TQ2BlockBytes;
        // Scales and block sums padded to whole vectors; the padding of the sums stays zero so padded scales add nothing.
        var padded = (blocks + 15) & ~15;
        var buffer = padded * 2 <= 2048 ? stackalloc float[padded * 2] : new float[padded * 2];
        fixed (float* sums = buffer)
        {
            for (var k = 0; k < padded; k++)
            {
                sums[k] = k < blocks ? a.BlockSum[k] : 0f;
            }

            var d = sums + padded;
            var scale = a.ActScale[0];
            for (var r = start; r < end; r++)
            {
                var row = a.Weights + r * rowBytes;
                TQ2Scales(row, blocks, padded, d);
                var acc = TQ2Row1(row, blocks, d, a.QInterleaved);
                a.Y[r] = Vector512.Sum(Corrected(acc, d, sums, padded)) * scale;
            }
        }
    }

    /// <summary>Σ code·q = Σ (code−1)·q + Σ q, so each block's d·Σq is subtracted lane-wise before the one horizontal sum.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Corrected(Vector512<float> acc, float* d, float* sums, int padded)
    {
        for (var k = 0; k < padded; k += 16)
        {
            acc = Avx512F.FusedMultiplyAddNegated(Vector512.Load(d + k), Vector512.Load(sums + k), acc);
        }

        return acc;
    }

    /// <summary>
    /// The fp16 block scales of one row as floats: the bits are copied with scalar loads (off the vector ports, which the
    /// block loop saturates) and widened 16 at a time in place. Padding lanes get +0, and their zero block sum cancels them.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void TQ2Scales(byte* row, int blocks, int padded, float* d)
    {
        var bits = (uint*)d;
        var k = 0;
        for (; k < blocks; k++)
        {
            bits[k] = Unsafe.ReadUnaligned<ushort>(row + k * BlockDecoders.TQ2BlockBytes + 64);
        }

        for (; k < padded; k++)
        {
            bits[k] = 0;
        }

        for (k = 0; k < padded; k += 16)
        {
            HalfToSingle(Vector512.Load(bits + k)).Store(d + k);
        }
    }

    /// <summary>fp16 bits (low 16 of each lane) to float: the exponent is rebased by one multiply, which also normalizes subnormals.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> HalfToSingle(Vector512<uint> h)
    {
        var magnitude = (h & Vector512.Create(0x7fffu)) << 13;
        // 2^112 moves the fp16 exponent bias (15) to the fp32 one (127).
        var value = magnitude.AsSingle() * Vector512.Create(5.192296858534828e33f);
        // Inf and NaN keep an all-ones exponent rather than being scaled to a finite value.
        var special = Vector512.GreaterThanOrEqual(magnitude, Vector512.Create(0x7c00u << 13));
        value = Vector512.ConditionalSelect(special.AsSingle(), (magnitude | Vector512.Create(0x7f800000u)).AsSingle(), value);
        return (value.AsUInt32() | ((h & Vector512.Create(0x8000u)) << 16)).AsSingle();
    }

    /// <summary>Σ code·q of one 256-value block, widened to 16 int32 lanes (one vpmaddwd, no horizontal sum).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> TQ2Block(byte* block, Vector512<sbyte> q0, Vector512<sbyte> q1, Vector512<sbyte> q2, Vector512<sbyte> q3)
    {
        var mask = Vector512.Create((byte)3);
        var w = Vector512.Load(block).AsUInt16();
        var c0 = w.AsByte() & mask;
        var c1 = Avx512BW.ShiftRightLogical(w, 2).AsByte() & mask;
        var c2 = Avx512BW.ShiftRightLogical(w, 4).AsByte() & mask;
        var c3 = Avx512BW.ShiftRightLogical(w, 6).AsByte() & mask;
        var s16 = Avx512BW.MultiplyAddAdjacent(c0, q0) + Avx512BW.MultiplyAddAdjacent(c1, q1)
            + Avx512BW.MultiplyAddAdjacent(c2, q2) + Avx512BW.MultiplyAddAdjacent(c3, q3);
        return Avx512BW.MultiplyAddAdjacent(s16, Vector512.Create((short)1));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static Vector512<float> TQ2Row1(byte* row, int blocks, float* d, sbyte* qi)
    {
        // Two blocks per step into two accumulators, so the FMA latency chain is halved without a per-block branch.
        Vector512<float> a0 = default, a1 = default;
        var k = 0;
        for (; k + 2 <= blocks; k += 2)
        {
            var p = qi + k * 256;
            var s0 = TQ2Block(row + k * BlockDecoders.TQ2BlockBytes, Vector512.Load(p), Vector512.Load(p + 64), Vector512.Load(p + 128), Vector512.Load(p + 192));
            var s1 = TQ2Block(row + (k + 1) * BlockDecoders.TQ2BlockBytes, Vector512.Load(p + 256), Vector512.Load(p + 320), Vector512.Load(p + 384), Vector512.Load(p + 448));
            a0 = Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(s0), Vector512.Create(d[k]), a0);
            a1 = Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(s1), Vector512.Create(d[k + 1]), a1);
        }

        if (k < blocks)
        {
            var p = qi + k * 256;
            var s = TQ2Block(row + k * BlockDecoders.TQ2BlockBytes, Vector512.Load(p), Vector512.Load(p + 64), Vector512.Load(p + 128), Vector512.Load(p + 192));
            a0 = Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(s), Vector512.Create(d[k]), a0);
        }

        return a0 + a1;
    }

    private static ReadOnlySpan<ushort> Pow3Shifted => [1 << 8, 3 << 8, 9 << 8, 27 << 8, 81 << 8];

    /// <summary>
    /// TQ1_0: each row's base-3 digits are first decoded to codes once (vectorized, so batch rows share the work), then dotted
    /// with natural-order activations per 256-value block.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void TQ1(in TernaryArgs a, int start, int end)
    {
        var blocks = a.Columns >> 8;
        var rowBytes = blocks * BlockDecoders.TQ1BlockBytes;
        var scales = blocks <= 256 ? stackalloc float[blocks] : new float[blocks];
        var codeBuffer = a.Columns <= 16384 ? stackalloc byte[a.Columns] : new byte[a.Columns];
        fixed (float* d = scales)
        fixed (byte* codes = codeBuffer)
        {
            for (var r = start; r < end; r++)
            {
                var row = a.Weights + (long)r * rowBytes;
                BlockDecoders.Halves(row + 52, BlockDecoders.TQ1BlockBytes, blocks, d);
                for (var k = 0; k < blocks; k++)
                {
                    TQ1Codes(row + k * BlockDecoders.TQ1BlockBytes, codes + k * 256);
                }

                for (var b = 0; b < a.Batch; b++)
                {
                    var f = CodesDot(codes, blocks, d, a.Q + (long)b * a.Stride);
                    a.Y[(long)b * a.Rows + r] = TernaryAvx2.BlockedOutput(f, d, a, b);
                }
            }
        }
    }

    /// <summary>
    /// Digit n of byte x is ((x·3^n mod 256)·3) >> 8. In 16-bit lanes x·(3^n·256) leaves (x·3^n mod 256) in the high byte,
    /// and vpmulhuw by 3 finishes the extraction: two multiplies per 32 codes.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void TQ1Codes(byte* block, byte* codes)
    {
        var three512 = Vector512.Create((ushort)3);
        var x = Avx512BW.ConvertToVector512UInt16(Vector256.Load(block));
        for (var n = 0; n < 5; n++)
        {
            var t = x * Vector512.Create(Pow3Shifted[n]);
            Avx512BW.ConvertToVector256Byte(Avx512BW.MultiplyHigh(t, three512)).Store(codes + n * 32);
        }

        var three256 = Vector256.Create((ushort)3);
        var y = Avx2.ConvertToVector256Int16(Vector128.Load(block + 32)).AsUInt16();
        for (var n = 0; n < 5; n++)
        {
            var t = y * Vector256.Create(Pow3Shifted[n]);
            Avx512BW.VL.ConvertToVector128Byte(Avx2.MultiplyHigh(t, three256)).Store(codes + 160 + n * 16);
        }

        var three128 = Vector128.Create((ushort)3);
        var z = Sse41.ConvertToVector128Int16(Vector128.CreateScalar(Unsafe.ReadUnaligned<uint>(block + 48)).AsByte()).AsUInt16();
        for (var n = 0; n < 4; n++)
        {
            var c = Sse2.MultiplyHigh(z * Vector128.Create(Pow3Shifted[n]), three128).AsInt16();
            Unsafe.WriteUnaligned(codes + 240 + n * 4, Sse2.PackUnsignedSaturate(c, c).AsUInt32().ToScalar());
        }
    }

    /// <summary>Σ_k d_k·Σ code·q over 256-value blocks of natural-order codes and activations.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float CodesDot(byte* codes, int blocks, float* d, sbyte* q)
    {
        var ones = Vector512.Create((short)1);
        Vector512<float> acc0 = default, acc1 = default;
        for (var k = 0; k < blocks; k++)
        {
            var c = codes + k * 256;
            var p = q + k * 256;
            var s16 = Avx512BW.MultiplyAddAdjacent(Vector512.Load(c), Vector512.Load(p))
                + Avx512BW.MultiplyAddAdjacent(Vector512.Load(c + 64), Vector512.Load(p + 64))
                + Avx512BW.MultiplyAddAdjacent(Vector512.Load(c + 128), Vector512.Load(p + 128))
                + Avx512BW.MultiplyAddAdjacent(Vector512.Load(c + 192), Vector512.Load(p + 192));
            var f = Avx512F.ConvertToVector512Single(Avx512BW.MultiplyAddAdjacent(s16, ones));
            if ((k & 1) == 0)
            {
                acc0 = Avx512F.FusedMultiplyAdd(f, Vector512.Create(d[k]), acc0);
            }
            else
            {
                acc1 = Avx512F.FusedMultiplyAdd(f, Vector512.Create(d[k]), acc1);
            }
        }

        return Vector512.Sum(acc0 + acc1);
    }
}
