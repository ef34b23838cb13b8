using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using WrinkleFree.Inference.Native;
using WrinkleFree.Inference.Tensors;
using WrinkleFree.Inference.Tensors.Kernels.Avx512;
using WrinkleFree.Inference.Threading;

namespace WrinkleFree.Bench;

/// <summary>
/// Row-interleaved I2_S (the idea of ik_llama.cpp's _R4 types, written fresh): four rows' 64-byte chunks stored next to
/// each other, so one stream carries four rows and each activation vector is loaded once for the four. Measured against
/// the engine's one-row GEMV (<see cref="TernaryAvx512.I2SDot1"/>) on the same codes and activations:
/// `WrinkleFree.Bench r4 [--threads N] [--working-set-mb N]`. Not an engine kernel.
/// </summary>
internal static unsafe class InterleavedRowsProbe
{
    private const int Rows = 4;

    // 16 chunks × 4 products × 2 × 2 × 127 = 32512 < 32767, as in the engine's kernel.
    private const int ChunksPer16BitRun = 16;

    private static bool s_hugePages;

    public static int Run(string[] args)
    {
        var workingSet = 512L << 20;
        var threads = 1;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--working-set-mb": workingSet = long.Parse(args[++i]) << 20; break;
                case "--threads": threads = int.Parse(args[++i]); break;
                case "--hugepages": s_hugePages = true; break;
                default: Console.Error.WriteLine($"unknown option {args[i]}"); return 2;
            }
        }

        if (!Avx512BW.IsSupported)
        {
            Console.Error.WriteLine("the row-interleaved probe needs AVX-512BW");
            return 2;
        }

        Console.WriteLine($"{threads} thread(s); each shape replicated over {workingSet >> 20} MiB (1 = from cache); best of several passes");
        Console.WriteLine($"{"shape (cols x rows)",-22} {"kernel",-16} {"us/call",10} {"GB/s",7} {"ns/256w",8}");
        using var pool = new WorkerPool(threads);
        foreach (var (columns, rows) in new[] { (2560, 2560), (2560, 6912), (6912, 2560) })
        {
            Measure(columns, rows, workingSet, pool);
        }

        return 0;
    }

    private static void Measure(int columns, int rows, long workingSet, WorkerPool pool)
    {
        var rowBytes = columns / 4;
        var bytes = (long)rows * rowBytes;
        var copies = (int)Math.Max(1, workingSet / bytes);
        var plain = s_hugePages ? HugePageMemory.Allocate(bytes * copies) : (byte*)NativeMemory.AlignedAlloc((nuint)(bytes * copies), 64);
        var interleaved = s_hugePages ? HugePageMemory.Allocate(bytes * copies) : (byte*)NativeMemory.AlignedAlloc((nuint)(bytes * copies), 64);
        var random = new Random(11);
        for (long i = 0; i < bytes; i++)
        {
            // Four codes 0..2 per byte.
            plain[i] = (byte)(random.Next(3) | random.Next(3) << 2 | random.Next(3) << 4 | random.Next(3) << 6);
        }

        var chunks = columns / 256;
        for (var r = 0; r < rows; r++)
        {
            for (var k = 0; k < chunks; k++)
            {
                Buffer.MemoryCopy(plain + (long)r * rowBytes + k * 64, interleaved + ((long)(r / Rows) * chunks + k) * Rows * 64 + (r % Rows) * 64, 64, 64);
            }
        }

        for (var c = 1; c < copies; c++)
        {
            Buffer.MemoryCopy(plain, plain + c * bytes, bytes, bytes);
            Buffer.MemoryCopy(interleaved, interleaved + c * bytes, bytes, bytes);
        }

        var x = new ActivationBatch(1, columns);
        var r2 = new Random(1);
        foreach (ref var v in x.Data)
        {
            v = (float)(r2.NextDouble() * 2 - 1);
        }

        x.MarkDirty();
        var qi = x.GetInt8().QInterleaved.Pointer;
        var expected = new int[rows];
        var actual = new int[rows];
        fixed (int* pe = expected)
        fixed (int* pa = actual)
        {
            var job = new Job { Columns = columns, Q = qi };
            job.Set(plain, pe, interleavedLayout: false);
            pool.Run(job, rows / Rows);
            job.Set(interleaved, pa, interleavedLayout: true);
            pool.Run(job, rows / Rows);
            for (var r = 0; r < rows; r++)
            {
                if (expected[r] != actual[r])
                {
                    throw new InvalidOperationException($"row-interleaved row {r}: {actual[r]} != {expected[r]}");
                }
            }

            foreach (var (label, data, layout, output) in new[] { ("I2_S (engine)", (nint)plain, false, (nint)pe), ("row-interleaved", (nint)interleaved, true, (nint)pa) })
            {
                var seconds = ProbeTiming.Best(() =>
                {
                    for (var c = 0; c < copies; c++)
                    {
                        job.Set((byte*)data + c * bytes, (int*)output, layout);
                        pool.Run(job, rows / Rows);
                    }
                }, copies);
                Console.WriteLine($"{columns + " x " + rows,-22} {label,-16} {seconds * 1e6,10:F1} {bytes / seconds / 1e9,7:F1} {seconds * 1e9 / ((double)rows * columns / 256),8:F2}");
            }
        }

        if (s_hugePages)
        {
            HugePageMemory.Free(plain);
            HugePageMemory.Free(interleaved);
        }
        else
        {
            NativeMemory.AlignedFree(plain);
            NativeMemory.AlignedFree(interleaved);
        }
    }

    private sealed class Job : IParallelWork
    {
        public int Columns;
        public sbyte* Q;
        private byte* _data;
        private int* _y;
        private bool _interleaved;

        public void Set(byte* data, int* y, bool interleavedLayout)
        {
            _data = data;
            _y = y;
            _interleaved = interleavedLayout;
        }

        public void Execute(int start, int end)
        {
            var chunks = Columns / 256;
            for (var g = start; g < end; g++)
            {
                if (_interleaved)
                {
                    Dot4Rows(_data + (long)g * chunks * Rows * 64, chunks, Q, _y + g * Rows);
                    continue;
                }

                for (var r = g * Rows; r < (g + 1) * Rows; r++)
                {
                    _y[r] = TernaryAvx512.I2SDot1(_data + (long)r * Columns / 4, chunks, Q);
                }
            }
        }
    }

    /// <summary>Σ code·q for four interleaved rows: each chunk's four activation vectors are loaded once for the four rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Dot4Rows(byte* p, int chunks, sbyte* qi, int* y)
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
                var q = qi + k * 256;
                var x0 = Vector512.Load(q);
                var x1 = Vector512.Load(q + 64);
                var x2 = Vector512.Load(q + 128);
                var x3 = Vector512.Load(q + 192);
                var w = p + (long)k * Rows * 64;
                s0 += Row(Vector512.Load(w).AsUInt16(), mask, x0, x1, x2, x3);
                s1 += Row(Vector512.Load(w + 64).AsUInt16(), mask, x0, x1, x2, x3);
                s2 += Row(Vector512.Load(w + 128).AsUInt16(), mask, x0, x1, x2, x3);
                s3 += Row(Vector512.Load(w + 192).AsUInt16(), mask, x0, x1, x2, x3);
            }

            a0 += Avx512BW.MultiplyAddAdjacent(s0, ones);
            a1 += Avx512BW.MultiplyAddAdjacent(s1, ones);
            a2 += Avx512BW.MultiplyAddAdjacent(s2, ones);
            a3 += Avx512BW.MultiplyAddAdjacent(s3, ones);
        }

        y[0] = Vector512.Sum(a0);
        y[1] = Vector512.Sum(a1);
        y[2] = Vector512.Sum(a2);
        y[3] = Vector512.Sum(a3);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<short> Row(Vector512<ushort> w, Vector512<byte> mask, Vector512<sbyte> x0, Vector512<sbyte> x1, Vector512<sbyte> x2, Vector512<sbyte> x3) =>
        Avx512BW.MultiplyAddAdjacent(Avx512BW.ShiftRightLogical(w, 6).AsByte() & mask, x0)
        + Avx512BW.MultiplyAddAdjacent(Avx512BW.ShiftRightLogical(w, 4).AsByte() & mask, x1)
        + Avx512BW.MultiplyAddAdjacent(Avx512BW.ShiftRightLogical(w, 2).AsByte() & mask, x2)
        + Avx512BW.MultiplyAddAdjacent(w.AsByte() & mask, x3);
}
