using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using WrinkleFree.Inference.Tensors.Kernels.Scalar;

namespace WrinkleFree.Inference.Tensors.Kernels.Avx512;

/// <summary>
/// Batched ternary GEMM on the I2_S row layout (batch ≥ 2: prefill chunks and multi-sequence decode). A micro-kernel
/// decodes two weight rows once per 256-value chunk into eight code vectors held in registers and multiplies them against
/// eight activation rows: each decode serves sixteen products and each activation load two, where the GEMV loop
/// re-decoded the weights for every activation row. Sums stay in 16-bit lanes for up to 16 chunks (the same bound as the
/// GEMV): longer rows are cut into balanced column ranges of at most 16 chunks, each widened once and summed per row pair.
/// Tokens left over after the groups of eight go through the one-row kernels
/// (four tokens or one per pass).
/// </summary>
internal static unsafe class TernaryGemmAvx512
{
    private const int ChunksPer16BitRun = 16;

    // Activation rows per tile: 2 rows × 8 tokens = 16 accumulators + 8 code vectors fit the 32 zmm registers.
    private const int Tile = 8;

    private const int RowBlock = 64;

    private const int PrefetchRows = 4;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void I2S(in TernaryArgs a, int start, int end)
    {
        if (a.Batch == 1)
        {
            TernaryAvx512.I2S(a, start, end);
            return;
        }

        var rowBytes = a.Columns >> 2;
        var chunks = a.Columns >> 8;
        var hasTail = (a.Columns & 255) != 0;
        var dots = stackalloc int[2 * Tile];
        var part = stackalloc Vector512<int>[RowBlock / 2];
        var ranges = Math.Max(1, (chunks + ChunksPer16BitRun - 1) / ChunksPer16BitRun);
        var span = Math.Max(1, (chunks + ranges - 1) / ranges);

        // Blocks of rows small enough to stay in L2 (64 rows ≤ 110 KB), and within a block the token groups outermost: one
        // group's activations (8 × Columns bytes) stay in L1/L2 while the block's rows stream past, and the next group
        // re-reads the block's weights from L2 rather than from memory.
        for (var block = start; block < end; block += RowBlock)
        {
            var blockEnd = Math.Min(end, block + RowBlock);
            for (var b = 0; b < a.Batch;)
            {
                var n = a.Batch - b >= Tile ? Tile : a.Batch - b >= 4 ? 4 : 1;
                var qi = a.QInterleaved + (long)b * a.Stride;
                if (n < Tile)
                {
                    // Fewer than eight tokens left: one row at a time streams the weights better than row pairs (measured:
                    // batch 4 took 1.6x the CPU time with a 2×4 tile), and the codes are still shared by the tokens.
                    for (var r = block; r < blockEnd; r++)
                    {
                        var w = a.Weights + (long)r * rowBytes;
                        if (n == 4)
                        {
                            TernaryAvx512.I2SDot4(w, chunks, qi, a.Stride, out dots[0], out dots[1], out dots[2], out dots[3]);
                        }
                        else
                        {
                            dots[0] = TernaryAvx512.I2SDot1(w, chunks, qi);
                        }

                        Store(a, r, w, b, n, dots, hasTail, chunks);
                    }

                    b += n;
                    continue;
                }

                // Column ranges of at most 16 chunks, balanced (6912 columns: 14 + 13 chunks): a range's 16-bit sums cannot
                // overflow, and one group's activations for a range (8 × at most 4096 bytes) stay in L1 while the block's
                // rows pass, where a whole 6912-column row's (55 KB) did not fit. Each pair's partial sums add up in part[].
                // Rows shorter than one chunk still take one (empty) range, so part[] is always written; their values are
                // all in the tail that Store adds.
                var pairs = (blockEnd - block + 1) / 2;
                for (var range = 0; range < ranges; range++)
                {
                    var k0 = range * span;
                    var kn = Math.Min(span, chunks - k0);
                    for (var i = 0; i < pairs; i++)
                    {
                        var r = block + 2 * i;
                        // An odd last row is paired with itself; the duplicate results are dropped.
                        var r1 = r + 1 < blockEnd ? r + 1 : r;
                        var w0 = a.Weights + (long)r * rowBytes + k0 * 64;
                        // Rows r + 4 and r + 5 are prefetched into L2 as this pair computes (measured: 5-20 % fewer cycles
                        // at 16 tokens on 1 thread from DRAM, 0-5 % on 2).
                        var ahead = r + PrefetchRows + 1 < a.Rows ? w0 + PrefetchRows * rowBytes : null;
                        var sums = Tile2x8(w0, w0 + (long)(r1 - r) * rowBytes, kn, qi + k0 * 256, a.Stride, ahead, rowBytes);
                        part[i] = range == 0 ? sums : part[i] + sums;
                    }
                }

                for (var i = 0; i < pairs; i++)
                {
                    var r = block + 2 * i;
                    var r1 = r + 1 < blockEnd ? r + 1 : r;
                    if (!hasTail)
                    {
                        StoreTile(a, r, r1, b, part[i], dots);
                        continue;
                    }

                    part[i].Store(dots);
                    Store(a, r, a.Weights + (long)r * rowBytes, b, n, dots, hasTail, chunks);
                    if (r1 != r)
                    {
                        Store(a, r1, a.Weights + (long)r1 * rowBytes, b, n, dots + Tile, hasTail, chunks);
                    }
                }

                b += n;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(in TernaryArgs a, int r, byte* row, int b0, int n, int* dots, bool hasTail, int chunks)
    {
        for (var j = 0; j < n; j++)
        {
            TernaryAvx512.StoreRow(a, r, row, b0 + j, dots[j], hasTail, chunks);
        }
    }

    /// <summary>
    /// The 2×8 outputs from one vector of dots (lanes 0–7: row r, tokens b..b+7; lanes 8–15: row r1), with the same float
    /// expression as <see cref="ScalarKernels.I2SOutput"/>, evaluated lane-wise. The outputs are token-major, so rows r and
    /// r + 1 of a token are neighbours: the two rows' lanes are interleaved and each token gets one 8-byte store through
    /// <paramref name="scratch"/> (16 ints). Extracting each lane with GetElement made the JIT spill the whole vector to the
    /// stack once per lane, about 160 instructions a tile; this form made a 16-token GEMM on 2560-column rows 1-7 % faster
    /// (kernels bench, one thread, the two builds alternating: q/o 288.9-289.7 against 293.7-297.4 µs).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreTile(in TernaryArgs a, int r, int r1, int b, Vector512<int> dots, int* scratch)
    {
        var rowSums = Vector256.Load(a.RowSum + b);
        var actScales = Vector256.Load(a.ActScale + b);
        var sums = Vector512.Create(rowSums, rowSums);
        var scales = Vector512.Create(actScales * a.ScaleOf(r), actScales * a.ScaleOf(r1));
        var y = Avx512F.ConvertToVector512Single(dots - sums) * scales;
        var o = a.Y + (long)b * a.Rows;
        if (r1 == r + 1)
        {
            var pairs = (long*)scratch;
            Avx512F.PermuteVar16x32(y, Vector512.Create(0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15)).Store((float*)scratch);
            for (var j = 0; j < Tile; j++)
            {
                *(long*)(o + (long)j * a.Rows + r) = pairs[j];
            }

            return;
        }

        // An odd last row paired with itself: only lanes 0-7 are its outputs.
        y.Store((float*)scratch);
        for (var j = 0; j < Tile; j++)
        {
            o[(long)j * a.Rows + r] = ((float*)scratch)[j];
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<short> Mad(Vector512<byte> codes, Vector512<sbyte> q) => Avx512BW.MultiplyAddAdjacent(codes, q);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Widen(Vector512<short> s) => Avx512BW.MultiplyAddAdjacent(s, Vector512<short>.One);

    /// <summary>One token's 256 activations against the codes of both rows, one activation vector at a time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Token(
        sbyte* p, Vector512<byte> c00, Vector512<byte> c01, Vector512<byte> c02, Vector512<byte> c03,
        Vector512<byte> c10, Vector512<byte> c11, Vector512<byte> c12, Vector512<byte> c13, ref Vector512<short> s0, ref Vector512<short> s1)
    {
        var x = Vector512.Load(p); s0 += Mad(c00, x); s1 += Mad(c10, x);
        x = Vector512.Load(p + 64); s0 += Mad(c01, x); s1 += Mad(c11, x);
        x = Vector512.Load(p + 128); s0 += Mad(c02, x); s1 += Mad(c12, x);
        x = Vector512.Load(p + 192); s0 += Mad(c03, x); s1 += Mad(c13, x);
    }

    /// <summary>
    /// Σ code·q over <paramref name="chunks"/> (at most 16) chunks of rows w0 and w1 against eight tokens: lanes 0–7 row
    /// w0, lanes 8–15 row w1. With <paramref name="ahead"/> set, the two rows there are prefetched into L2 chunk by chunk.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static Vector512<int> Tile2x8(byte* w0, byte* w1, int chunks, sbyte* q, int stride, byte* ahead, int rowBytes)
    {
        var mask = Vector512.Create((byte)3);
        Vector512<short> s00 = default, s01 = default, s02 = default, s03 = default, s04 = default, s05 = default, s06 = default, s07 = default;
        Vector512<short> s10 = default, s11 = default, s12 = default, s13 = default, s14 = default, s15 = default, s16 = default, s17 = default;
        for (var k = 0; k < chunks; k++)
        {
            var u0 = Vector512.Load(w0 + k * 64).AsUInt16();
            var u1 = Vector512.Load(w1 + k * 64).AsUInt16();
            if (ahead != null)
            {
                Sse.Prefetch1(ahead + k * 64);
                Sse.Prefetch1(ahead + rowBytes + k * 64);
            }

            var c00 = Avx512BW.ShiftRightLogical(u0, 6).AsByte() & mask;
            var c01 = Avx512BW.ShiftRightLogical(u0, 4).AsByte() & mask;
            var c02 = Avx512BW.ShiftRightLogical(u0, 2).AsByte() & mask;
            var c03 = u0.AsByte() & mask;
            var c10 = Avx512BW.ShiftRightLogical(u1, 6).AsByte() & mask;
            var c11 = Avx512BW.ShiftRightLogical(u1, 4).AsByte() & mask;
            var c12 = Avx512BW.ShiftRightLogical(u1, 2).AsByte() & mask;
            var c13 = u1.AsByte() & mask;
            var p = q + k * 256;
            // One activation row at a time feeds both rows: few registers besides the 8 codes and 16 sums.
            Token(p, c00, c01, c02, c03, c10, c11, c12, c13, ref s00, ref s10);
            p += stride;
            Token(p, c00, c01, c02, c03, c10, c11, c12, c13, ref s01, ref s11);
            p += stride;
            Token(p, c00, c01, c02, c03, c10, c11, c12, c13, ref s02, ref s12);
            p += stride;
            Token(p, c00, c01, c02, c03, c10, c11, c12, c13, ref s03, ref s13);
            p += stride;
            Token(p, c00, c01, c02, c03, c10, c11, c12, c13, ref s04, ref s14);
            p += stride;
            Token(p, c00, c01, c02, c03, c10, c11, c12, c13, ref s05, ref s15);
            p += stride;
            Token(p, c00, c01, c02, c03, c10, c11, c12, c13, ref s06, ref s16);
            p += stride;
            Token(p, c00, c01, c02, c03, c10, c11, c12, c13, ref s07, ref s17);
        }

        return Reduce16(
            Widen(s00), Widen(s01), Widen(s02), Widen(s03), Widen(s04), Widen(s05), Widen(s06), Widen(s07),
            Widen(s10), Widen(s11), Widen(s12), Widen(s13), Widen(s14), Widen(s15), Widen(s16), Widen(s17));
    }

    /// <summary>
    /// Sixteen horizontal sums as one vector (lane i = Σ v_i): each level adds pairs of vectors after interleaving them,
    /// halving the vector count while every lane keeps a partial sum of one source (45 operations instead of 16 full
    /// reductions and scalar stores).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<int> Reduce16(
        Vector512<int> v0, Vector512<int> v1, Vector512<int> v2, Vector512<int> v3, Vector512<int> v4, Vector512<int> v5, Vector512<int> v6, Vector512<int> v7,
        Vector512<int> v8, Vector512<int> v9, Vector512<int> v10, Vector512<int> v11, Vector512<int> v12, Vector512<int> v13, Vector512<int> v14, Vector512<int> v15)
    {
        // Per 128-bit lane after level 2: [Σ v_4g, Σ v_4g+1, Σ v_4g+2, Σ v_4g+3] over that lane's four elements.
        var g0 = Level2(Level1(v0, v1), Level1(v2, v3));
        var g1 = Level2(Level1(v4, v5), Level1(v6, v7));
        var g2 = Level2(Level1(v8, v9), Level1(v10, v11));
        var g3 = Level2(Level1(v12, v13), Level1(v14, v15));

        // 128-bit lanes: [g0.L0+g0.L1, g0.L2+g0.L3, g1.L0+g1.L1, g1.L2+g1.L3], then once more across the halves.
        var h0 = Level3(g0, g1);
        var h1 = Level3(g2, g3);
        return Level3(h0, h1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Level1(Vector512<int> a, Vector512<int> b) =>
        Avx512F.UnpackLow(a, b) + Avx512F.UnpackHigh(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Level2(Vector512<int> a, Vector512<int> b) =>
        // The 64-bit unpacks only move pairs; the add must stay 32-bit so no carry crosses lanes.
        Avx512F.UnpackLow(a.AsInt64(), b.AsInt64()).AsInt32() + Avx512F.UnpackHigh(a.AsInt64(), b.AsInt64()).AsInt32();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Level3(Vector512<int> a, Vector512<int> b) =>
        Avx512F.Shuffle4x128(a, b, 0b10_00_10_00) + Avx512F.Shuffle4x128(a, b, 0b11_01_11_01);
}
