using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using WrinkleFree.Inference.Gguf;
using WrinkleFree.Inference.Native;
using WrinkleFree.Inference.Tensors;
using WrinkleFree.Inference.Tensors.Kernels;
using WrinkleFree.Inference.Threading;

namespace WrinkleFree.Bench;

/// <summary>
/// A table-lookup ternary GEMV (the T-MAC / bitnet.cpp TL2 idea, written fresh for AVX-512 VBMI), measured against the
/// engine's I2_S kernel in the same run: `WrinkleFree.Bench lut`. Not an engine kernel; it exists to decide whether one
/// should be.
/// </summary>
/// <remarks>
/// Three ternary weights make one of 27 patterns, stored as a 5-bit index (1.67 bits a weight against I2_S's 2). Per token
/// and per group of three activations a 32-entry int16 table holds every pattern's exact sum (|sum| ≤ 381, so the result
/// is the same integer Σ w·q the I2_S kernels form). Rows go in blocks of 32: a group's 32 indices (20 bytes) are spread
/// to one word per row with vpermb + vpmultishiftqb, vpermw looks the 32 sums up in the group's table, and vpaddw
/// accumulates them, widened to int32 every 64 groups. Per 96 weights: 4 vector operations and 2 loads.
/// <para>
/// `lut --tokens 16` runs the batched form instead (a table per token; each group's indices spread once for all sixteen
/// tokens, then one vpermw and one vpaddw per 96 weights × token), on its own layout in the kernel's reading order, against
/// the engine's I2_S GEMM on sixteen tokens. `--slice N` sets the groups per table pass (default 32: sixteen tokens' tables
/// are 32 KiB, in L1), `--prefetch N` how many row blocks ahead its indices are prefetched (default 2; 0 = none).
/// </para>
/// </remarks>
internal static unsafe class TableLookupProbe
{
    private const int RowBlock = 32;

    // Row blocks sharing one pass over the tables: a group's table is loaded once for 128 rows, whose indices are stored
    // next to each other (one weight stream).
    private const int BlocksPerPass = 8;
    private const int GroupBytes = 20;

    // 64 groups × 381 = 24384 < 32767: the 16-bit sums are widened before they can overflow.
    private const int GroupsPer16BitRun = 64;

    private static int s_prefetch = 2;

    // --one-table (experiment): every group reads table 0, to separate the tables' cache traffic from the weights'.
    private static int s_tableMask = -1;

    public static int Run(string[] args)
    {
        var workingSet = 512L << 20;
        var threads = 1;
        var tokens = 1;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--working-set-mb": workingSet = long.Parse(args[++i]) << 20; break;
                case "--prefetch": s_prefetch = int.Parse(args[++i]); break;
                case "--threads": threads = int.Parse(args[++i]); break;
                case "--one-table": s_tableMask = 0; break;
                case "--tokens": tokens = int.Parse(args[++i]); break;
                case "--slice": s_batchSlice = int.Parse(args[++i]); break;
                default: Console.Error.WriteLine($"unknown option {args[i]}"); return 2;
            }
        }

        if (!Avx512Vbmi.IsSupported)
        {
            Console.Error.WriteLine("the table-lookup probe needs AVX-512 VBMI (vpermb, vpmultishiftqb)");
            return 2;
        }

        Console.WriteLine($"{threads} thread(s); each shape replicated over {workingSet >> 20} MiB (1 = from cache); best of several passes");
        Console.WriteLine($"{"shape (cols x rows)",-22} {"kernel",-14} {"bytes",10} {"us/call",10} {"GB/s",7} {"ns/256w",8} {"table us",9}");
        using var pool = new WorkerPool(threads);
        s_pool = pool;
        foreach (var (columns, rows) in new[] { (2304, 2560), (2304, 6912), (6912, 2560) })
        {
            var q = new sbyte[columns];
            var random = new Random(3);
            for (var i = 0; i < columns; i++)
            {
                q[i] = (sbyte)random.Next(-127, 128);
            }

            if (tokens == 1)
            {
                MeasureLut(columns, rows, q, workingSet);
            }
            else
            {
                MeasureLutBatch(columns, rows, tokens, workingSet, pool);
            }

            MeasureI2S(columns, rows, workingSet, pool, tokens);
        }

        return 0;
    }

    private static void MeasureLut(int columns, int rows, sbyte[] q, long workingSet)
    {
        var groups = columns / 3;
        var blocks = rows / RowBlock;
        var data = Matrices(columns, rows, workingSet, batch: false, out var weights, out var matrixBytes, out var copies);

        var tables = (short*)NativeMemory.AlignedAlloc((nuint)(groups * 64), 64);
        // Pinned arrays: the timed lambdas below take their addresses.
        var pinnedQ = GC.AllocateArray<sbyte>(q.Length, pinned: true);
        q.CopyTo(pinnedQ, 0);
        var pq = (sbyte*)Unsafe.AsPointer(ref pinnedQ[0]);
        var y = GC.AllocateArray<int>(rows, pinned: true);
        var py = (int*)Unsafe.AsPointer(ref y[0]);
        {
            BuildTables(pq, groups, tables);
            Gemv(data, tables, groups, blocks, py);
            for (var r = 0; r < rows; r++)
            {
                var expected = 0;
                for (var k = 0; k < columns; k++)
                {
                    expected += weights[r * columns + k] * q[k];
                }

                if (expected != y[r] && s_tableMask == -1)
                {
                    throw new InvalidOperationException($"table lookup row {r}: {y[r]} != {expected}");
                }
            }

            var tableSeconds = ProbeTiming.Best(() => BuildTables(pq, groups, tables), 1);
            var seconds = ProbeTiming.Best(() =>
            {
                BuildTables(pq, groups, tables);
                for (var c = 0; c < copies; c++)
                {
                    Gemv(data + c * matrixBytes, tables, groups, blocks, py);
                }
            }, copies);
            Report(columns, rows, "table lookup", matrixBytes, seconds, tableSeconds);
        }

        NativeMemory.AlignedFree(tables);
        NativeMemory.AlignedFree(data);
    }

    // The batched form (`lut --tokens 16`): a table per token, the tokens' tables for one group side by side, and each
    // group's 32 row indices spread once for all sixteen tokens. Per 96 weights × token: one vpermw and one vpaddw.
    private const int BatchTokens = 16;

    // Groups per table pass in the batched form: 32 keeps the sixteen tokens' tables (32 KiB) in L1.
    private static int s_batchSlice = 32;

    private static void MeasureLutBatch(int columns, int rows, int tokens, long workingSet, WorkerPool pool)
    {
        if (tokens != BatchTokens)
        {
            throw new ArgumentException($"the batched table-lookup probe runs {BatchTokens} tokens, not {tokens}");
        }

        var groups = columns / 3;
        if (s_batchSlice is < 1 or > GroupsPer16BitRun || groups % s_batchSlice != 0)
        {
            throw new ArgumentException(
                $"--slice {s_batchSlice}: must divide the {groups} groups of a {columns}-column matrix and be at most {GroupsPer16BitRun} (the 16-bit sums' bound)");
        }

        var blocks = rows / RowBlock;
        var data = Matrices(columns, rows, workingSet, batch: true, out var weights, out var matrixBytes, out var copies);
        var random = new Random(6);

        var q = (sbyte*)NativeMemory.AlignedAlloc((nuint)(tokens * columns), 64);
        for (var i = 0; i < tokens * columns; i++)
        {
            q[i] = (sbyte)random.Next(-127, 128);
        }

        var tables = (short*)NativeMemory.AlignedAlloc((nuint)(groups * tokens * 64), 64);
        var y = (int*)NativeMemory.AlignedAlloc((nuint)(rows * tokens * 4), 64);
        BuildBatchTables(q, columns, groups, tables);
        GemmBatch(data, tables, groups, blocks, rows, y, pool);
        for (var t = 0; t < tokens; t++)
        {
            for (var r = 0; r < rows; r++)
            {
                var expected = 0;
                for (var k = 0; k < columns; k++)
                {
                    expected += weights[r * columns + k] * q[t * columns + k];
                }

                if (expected != y[t * rows + r] && s_tableMask == -1)
                {
                    throw new InvalidOperationException($"batched table lookup token {t} row {r}: {y[t * rows + r]} != {expected}");
                }
            }
        }

        var tableSeconds = ProbeTiming.Best(() => BuildBatchTables(q, columns, groups, tables), 1);
        var seconds = ProbeTiming.Best(() =>
        {
            BuildBatchTables(q, columns, groups, tables);
            for (var c = 0; c < copies; c++)
            {
                GemmBatch(data + c * matrixBytes, tables, groups, blocks, rows, y, pool);
            }
        }, copies);
        Report(columns, rows, "table lookup", matrixBytes, seconds / tokens, tableSeconds);
        NativeMemory.AlignedFree(y);
        NativeMemory.AlignedFree(tables);
        NativeMemory.AlignedFree(q);
        NativeMemory.AlignedFree(data);
    }

    /// <summary>The batched form's layout: the kernel's reading order, sub-slices of groups outermost, then row blocks, then groups.</summary>
    private static void PackBatch(sbyte[] w, int rows, int columns, byte* destination)
    {
        var groups = columns / 3;
        var blocks = rows / RowBlock;
        for (var block = 0; block < blocks; block++)
        {
            for (var j = 0; j < groups; j++)
            {
                var p = destination + (((long)(j / s_batchSlice) * blocks + block) * s_batchSlice + j % s_batchSlice) * GroupBytes;
                PackRecord(w, columns, block, j, p);
            }
        }
    }

    /// <summary>Token t's table for group j at <c>tables + (j·16 + t)·32</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void BuildBatchTables(sbyte* q, int columns, int groups, short* tables)
    {
        var c0 = Coefficients(0);
        var c1 = Coefficients(1);
        var c2 = Coefficients(2);
        for (var j = 0; j < groups; j++)
        {
            for (var t = 0; t < BatchTokens; t++)
            {
                var x = q + t * columns + 3 * j;
                var table = c0 * Vector512.Create((short)x[0]) + c1 * Vector512.Create((short)x[1]) + c2 * Vector512.Create((short)x[2]);
                table.Store(tables + (j * BatchTokens + t) * 32);
            }
        }
    }

    private static void GemmBatch(byte* data, short* tables, int groups, int blocks, int rows, int* y, WorkerPool pool)
    {
        s_passes = blocks / BlocksPerPass;
        if (pool.Threads > 1)
        {
            s_gemm.Data = data;
            s_gemm.Tables = tables;
            s_gemm.Groups = groups;
            s_gemm.Rows = rows;
            s_gemm.Y = y;
            // One share per thread: every share walks all the sub-slices and their tables, so smaller shares reload them.
            var chunks = pool.ChunksPerThread;
            pool.ChunksPerThread = 1;
            pool.Run(s_gemm, blocks / BlocksPerPass);
            pool.ChunksPerThread = chunks;
            return;
        }

        GemmPasses(data, tables, groups, rows, y, 0, blocks / BlocksPerPass);
    }

    private static readonly GemmJob s_gemm = new();

    private sealed class GemmJob : IParallelWork
    {
        public byte* Data;
        public short* Tables;
        public int Groups;
        public int Rows;
        public int* Y;

        public void Execute(int start, int end) => GemmPasses(Data, Tables, Groups, Rows, Y, start, end);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void GemmPasses(byte* data, short* tables, int groups, int rows, int* y, int first, int last)
    {
        var spread = Spread;
        var shifts = Shifts;
        var blocks = s_passes * BlocksPerPass;
        for (var sub = 0; sub < groups / s_batchSlice; sub++)
        {
            var initial = sub == 0;
            for (var pass = first; pass < last; pass++)
            {
                for (var b = 0; b < BlocksPerPass; b++)
                {
                    var p = data + ((long)sub * blocks + pass * BlocksPerPass + b) * s_batchSlice * GroupBytes;
                    var t = tables + sub * s_batchSlice * BatchTokens * 32;
                    if (s_prefetch > 0)
                    {
                        // The indices s_prefetch blocks ahead (one block's are s_batchSlice × 20 contiguous bytes); a prefetch past
                        // the end of the matrix does not fault.
                        var ahead = p + s_prefetch * s_batchSlice * GroupBytes;
                        for (var off = 0; off < s_batchSlice * GroupBytes; off += 64)
                        {
                            Sse.Prefetch0(ahead + off);
                        }
                    }

                    Vector512<short> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
                    Vector512<short> a8 = default, a9 = default, a10 = default, a11 = default, a12 = default, a13 = default, a14 = default, a15 = default;
                    for (var j = 0; j < s_batchSlice; j++)
                    {
                        var idx = Indices(p + j * GroupBytes, spread, shifts);
                        var g = t + (j & s_tableMask) * BatchTokens * 32;
                        a0 += Avx512BW.PermuteVar32x16(Vector512.Load(g), idx);
                        a1 += Avx512BW.PermuteVar32x16(Vector512.Load(g + 32), idx);
                        a2 += Avx512BW.PermuteVar32x16(Vector512.Load(g + 64), idx);
                        a3 += Avx512BW.PermuteVar32x16(Vector512.Load(g + 96), idx);
                        a4 += Avx512BW.PermuteVar32x16(Vector512.Load(g + 128), idx);
                        a5 += Avx512BW.PermuteVar32x16(Vector512.Load(g + 160), idx);
                        a6 += Avx512BW.PermuteVar32x16(Vector512.Load(g + 192), idx);
                        a7 += Avx512BW.PermuteVar32x16(Vector512.Load(g + 224), idx);
                        a8 += Avx512BW.PermuteVar32x16(Vector512.Load(g + 256), idx);
                        a9 += Avx512BW.PermuteVar32x16(Vector512.Load(g + 288), idx);
                        a10 += Avx512BW.PermuteVar32x16(Vector512.Load(g + 320), idx);
                        a11 += Avx512BW.PermuteVar32x16(Vector512.Load(g + 352), idx);
                        a12 += Avx512BW.PermuteVar32x16(Vector512.Load(g + 384), idx);
                        a13 += Avx512BW.PermuteVar32x16(Vector512.Load(g + 416), idx);
                        a14 += Avx512BW.PermuteVar32x16(Vector512.Load(g + 448), idx);
                        a15 += Avx512BW.PermuteVar32x16(Vector512.Load(g + 480), idx);
                    }

                    var o = y + (pass * BlocksPerPass + b) * RowBlock;
                    Widen(a0, o, initial);
                    Widen(a1, o + rows, initial);
                    Widen(a2, o + 2 * rows, initial);
                    Widen(a3, o + 3 * rows, initial);
                    Widen(a4, o + 4 * rows, initial);
                    Widen(a5, o + 5 * rows, initial);
                    Widen(a6, o + 6 * rows, initial);
                    Widen(a7, o + 7 * rows, initial);
                    Widen(a8, o + 8 * rows, initial);
                    Widen(a9, o + 9 * rows, initial);
                    Widen(a10, o + 10 * rows, initial);
                    Widen(a11, o + 11 * rows, initial);
                    Widen(a12, o + 12 * rows, initial);
                    Widen(a13, o + 13 * rows, initial);
                    Widen(a14, o + 14 * rows, initial);
                    Widen(a15, o + 15 * rows, initial);
                }
            }
        }
    }

    private static void MeasureI2S(int columns, int rows, long workingSet, WorkerPool pool, int tokens)
    {
        var bytes = (long)rows * columns / 4 + 32;
        var stride = (bytes + 63) & ~63L;
        var copies = (int)Math.Max(1, workingSet / stride);
        var data = (byte*)NativeMemory.AlignedAlloc((nuint)(stride * copies), 64);
        var random = new Random(7);
        for (long i = 0; i < stride * copies; i++)
        {
            data[i] = (byte)(random.Next(3) * 0x55);
        }

        var matrices = new WeightMatrix[copies];
        for (var c = 0; c < copies; c++)
        {
            *(float*)(data + c * stride + bytes - 32) = 0.5f;
            matrices[c] = WeightMatrix.Create(GgmlType.I2_S, (nint)(data + c * stride), rows, columns, "probe", KernelFamily.Default);
        }

        var x = new ActivationBatch(tokens, columns) { Batch = tokens };
        var r2 = new Random(1);
        foreach (ref var v in x.Data)
        {
            v = (float)(r2.NextDouble() * 2 - 1);
        }

        var y = new float[rows * tokens];
        var seconds = ProbeTiming.Best(() =>
        {
            x.MarkDirty();
            for (var c = 0; c < copies; c++)
            {
                matrices[c].Multiply(x, y, pool);
            }
        }, copies);
        Report(columns, rows, "I2_S (engine)", bytes, seconds / tokens, 0);
        NativeMemory.AlignedFree(data);
    }

    private static void Report(int columns, int rows, string kernel, long bytes, double seconds, double tableSeconds) =>
        Console.WriteLine($"{columns + " x " + rows,-22} {kernel,-14} {bytes,10} {seconds * 1e6,10:F1} {bytes / seconds / 1e9,7:F1} {seconds * 1e9 / ((double)rows * columns / 256),8:F2} {tableSeconds * 1e6,9:F2}");

    /// <summary>
    /// Where a (row block, group)'s 20 bytes go: slices of 64 groups outermost, then passes of 8 row blocks, then groups,
    /// then the pass's blocks. A slice's tables (4 KiB) stay in L1 while every row's indices for it stream past.
    /// </summary>
    private static long Offset(int block, int group, int passes) =>
        ((((long)(group / GroupsPer16BitRun) * passes + block / BlocksPerPass) * GroupsPer16BitRun + group % GroupsPer16BitRun) * BlocksPerPass + block % BlocksPerPass) * GroupBytes;

    /// <summary>
    /// Random ternary weights packed in the GEMV's or the batched form's layout, repeated <c>copies</c> times to fill
    /// <paramref name="workingSet"/> (one copy when it is smaller than the matrix).
    /// </summary>
    private static byte* Matrices(int columns, int rows, long workingSet, bool batch, out sbyte[] weights, out long matrixBytes, out int copies)
    {
        matrixBytes = (long)(rows / RowBlock) * (columns / 3) * GroupBytes + 64;
        copies = (int)Math.Max(1, workingSet / matrixBytes);
        var data = (byte*)NativeMemory.AlignedAlloc((nuint)(matrixBytes * copies), 64);
        var random = new Random(5);
        weights = new sbyte[rows * columns];
        for (var i = 0; i < weights.Length; i++)
        {
            weights[i] = (sbyte)(random.Next(3) - 1);
        }

        if (batch)
        {
            PackBatch(weights, rows, columns, data);
        }
        else
        {
            Pack(weights, rows, columns, data);
        }

        for (var c = 1; c < copies; c++)
        {
            Buffer.MemoryCopy(data, data + c * matrixBytes, matrixBytes, matrixBytes);
        }

        return data;
    }

    /// <summary>The GEMV's layout (<see cref="Offset"/>).</summary>
    private static void Pack(sbyte[] w, int rows, int columns, byte* destination)
    {
        var groups = columns / 3;
        for (var block = 0; block < rows / RowBlock; block++)
        {
            for (var j = 0; j < groups; j++)
            {
                var p = destination + Offset(block, j, rows / RowBlock / BlocksPerPass);
                PackRecord(w, columns, block, j, p);
            }
        }
    }

    /// <summary>Index of three weights: (w0 + 1) + 3(w1 + 1) + 9(w2 + 1); a block's 32 rows at bits 5r of its 20 bytes.</summary>
    private static void PackRecord(sbyte[] w, int columns, int block, int j, byte* p)
    {
        new Span<byte>(p, GroupBytes).Clear();
        for (var r = 0; r < RowBlock; r++)
        {
            var row = (block * RowBlock + r) * columns + 3 * j;
            var index = (w[row] + 1) + 3 * (w[row + 1] + 1) + 9 * (w[row + 2] + 1);
            var bit = 5 * r;
            var value = index << (bit & 7);
            p[bit >> 3] |= (byte)value;
            p[(bit >> 3) + 1] |= (byte)(value >> 8);
        }
    }

    /// <summary>Per group of three activations, the 27 patterns' sums Σ (d_i − 1)·q_i as int16 (entries 27..31 zero).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void BuildTables(sbyte* q, int groups, short* tables)
    {
        var c0 = Coefficients(0);
        var c1 = Coefficients(1);
        var c2 = Coefficients(2);
        for (var j = 0; j < groups; j++)
        {
            var t = c0 * Vector512.Create((short)q[3 * j]) + c1 * Vector512.Create((short)q[3 * j + 1]) + c2 * Vector512.Create((short)q[3 * j + 2]);
            t.Store(tables + j * 32);
        }
    }

    private static Vector512<short> Coefficients(int digit)
    {
        var c = new short[32];
        for (var e = 0; e < 27; e++)
        {
            c[e] = (short)((digit switch { 0 => e % 3, 1 => e / 3 % 3, _ => e / 9 }) - 1);
        }

        return Vector512.Create(c);
    }

    // Output qword i (rows 4i..4i+3) needs bits 20i..20i+19 of the 160: bytes from floor(20i / 8), shifted by 0 or 4.
    private static readonly Vector512<byte> Spread = Vector512.Create(SpreadBytes());
    private static readonly Vector512<byte> Shifts = Vector512.Create(ShiftBytes());

    private static byte[] SpreadBytes()
    {
        var b = new byte[64];
        for (var i = 0; i < 8; i++)
        {
            for (var m = 0; m < 8; m++)
            {
                b[8 * i + m] = (byte)(20 * i / 8 + m);
            }
        }

        return b;
    }

    private static byte[] ShiftBytes()
    {
        var b = new byte[64];
        for (var i = 0; i < 8; i++)
        {
            for (var m = 0; m < 8; m++)
            {
                // Word m / 2's low byte takes the 8 bits from the row's offset; the high byte's bits are ignored by vpermw.
                b[8 * i + m] = (byte)(20 * i % 8 + 5 * (m / 2));
            }
        }

        return b;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Gemv(byte* data, short* tables, int groups, int blocks, int* y)
    {
        if (s_pool is { Threads: > 1 } pool)
        {
            s_job.Data = data;
            s_job.Tables = tables;
            s_job.Groups = groups;
            s_job.Y = y;
            s_passes = blocks / BlocksPerPass;
            // One contiguous share per thread: each share walks every slice, so finer chunks would interleave more streams.
            var chunks = pool.ChunksPerThread;
            pool.ChunksPerThread = 1;
            pool.Run(s_job, blocks / BlocksPerPass);
            pool.ChunksPerThread = chunks;
            return;
        }

        s_passes = blocks / BlocksPerPass;
        Passes(data, tables, groups, y, 0, blocks / BlocksPerPass);
    }

    private static WorkerPool? s_pool;
    private static int s_passes;
    private static readonly GemvJob s_job = new();

    private sealed class GemvJob : IParallelWork
    {
        public byte* Data;
        public short* Tables;
        public int Groups;
        public int* Y;

        public void Execute(int start, int end) => Passes(Data, Tables, Groups, Y, start, end);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Passes(byte* data, short* tables, int groups, int* y, int first, int last)
    {
        var spread = Spread;
        var shifts = Shifts;
        var passes = s_passes;
        for (var slice = 0; slice < groups / GroupsPer16BitRun; slice++)
        {
            var t = tables + slice * GroupsPer16BitRun * 32;
            for (var pass = first; pass < last; pass++)
            {
                var p = data + ((long)slice * passes + pass) * GroupsPer16BitRun * BlocksPerPass * GroupBytes;
                Vector512<short> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
                for (var j = 0; j < GroupsPer16BitRun; j++)
                {
                    var table = Vector512.Load(t + (j & s_tableMask) * 32);
                    var g = p + j * GroupBytes * BlocksPerPass;
                    a0 += Avx512BW.PermuteVar32x16(table, Indices(g, spread, shifts));
                    a1 += Avx512BW.PermuteVar32x16(table, Indices(g + GroupBytes, spread, shifts));
                    a2 += Avx512BW.PermuteVar32x16(table, Indices(g + 2 * GroupBytes, spread, shifts));
                    a3 += Avx512BW.PermuteVar32x16(table, Indices(g + 3 * GroupBytes, spread, shifts));
                    a4 += Avx512BW.PermuteVar32x16(table, Indices(g + 4 * GroupBytes, spread, shifts));
                    a5 += Avx512BW.PermuteVar32x16(table, Indices(g + 5 * GroupBytes, spread, shifts));
                    a6 += Avx512BW.PermuteVar32x16(table, Indices(g + 6 * GroupBytes, spread, shifts));
                    a7 += Avx512BW.PermuteVar32x16(table, Indices(g + 7 * GroupBytes, spread, shifts));
                }

                var o = y + pass * RowBlock * BlocksPerPass;
                var initial = slice == 0;
                Widen(a0, o, initial);
                Widen(a1, o + 32, initial);
                Widen(a2, o + 64, initial);
                Widen(a3, o + 96, initial);
                Widen(a4, o + 128, initial);
                Widen(a5, o + 160, initial);
                Widen(a6, o + 192, initial);
                Widen(a7, o + 224, initial);
            }
        }
    }

    /// <summary>A group's 32 five-bit indices (20 bytes at <paramref name="p"/>) as the low bits of 32 words.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<short> Indices(byte* p, Vector512<byte> spread, Vector512<byte> shifts)
    {
        var raw = Vector256.Load(p).ToVector512Unsafe();
        return Avx512Vbmi.MultiShift(shifts, Avx512Vbmi.PermuteVar64x8(raw, spread).AsUInt64()).AsInt16();
    }

    /// <summary>Adds a block's 32 sums to its rows' int32 totals (stores them for the first slice).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Widen(Vector512<short> acc, int* y, bool first)
    {
        var lo = Avx512BW.ConvertToVector512Int32(acc.GetLower());
        var hi = Avx512BW.ConvertToVector512Int32(acc.GetUpper());
        if (!first)
        {
            lo += Vector512.Load(y);
            hi += Vector512.Load(y + 16);
        }

        lo.Store(y);
        hi.Store(y + 16);
    }

}
