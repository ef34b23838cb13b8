using System.Diagnostics;
using System.Runtime.InteropServices;
using WrinkleFree.Inference.Gguf;
using WrinkleFree.Inference.Native;
using WrinkleFree.Inference.Tensors;
using WrinkleFree.Inference.Tensors.Kernels;
using WrinkleFree.Inference.Threading;

namespace WrinkleFree.Bench;

/// <summary>
/// Times every matmul shape of BitNet b1.58 2B4T against the memory read bandwidth measured in the same run. Each shape is
/// replicated over at least 512 MiB and the copies are cycled, so weights stream from DRAM as they do when decoding.
/// </summary>
internal static unsafe class KernelBench
{
    // Each shape is replicated over this many bytes (--working-set-mb; 1 makes a single copy that may stay in cache, which
    // separates a kernel's compute cost from its memory stalls).
    private static long s_workingSetBytes = 512L << 20;

    // --hugepages: the weight copies on transparent huge pages (as the engine's repacked tensors are) instead of 4 KiB pages.
    private static bool s_hugePages;

    // --head-rows: rows of the lm_head shape (default the 2B4T vocabulary); fewer rows fit in the caches.
    private static int s_headRows = 128256;

    private static readonly (int Columns, int Rows, string Label)[] LayerShapes =
    [
        (2560, 2560, "attn_q/o"), (2560, 640, "attn_k/v"), (2560, 6912, "ffn_gate/up"), (6912, 2560, "ffn_down"),
    ];

    public static int Run(string[] args)
    {
        var threads = Environment.ProcessorCount;
        var isaArg = "best";
        var quick = false;
        string[]? typeFilter = null;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--threads": threads = int.Parse(args[++i]); break;
                case "--isa": isaArg = args[++i].ToLowerInvariant(); break;
                case "--quick": quick = true; break;
                case "--types": typeFilter = args[++i].Split(','); break;
                case "--hugepages": s_hugePages = true; break;
                case "--working-set-mb": s_workingSetBytes = long.Parse(args[++i]) << 20; break;
                case "--head-rows": s_headRows = int.Parse(args[++i]); break;
                default: Console.Error.WriteLine($"unknown option {args[i]}"); return 2;
            }
        }

        // Each family gets its own matrices (WeightMatrix.Create with the family), so they are compared side by side.
        KernelFamily[] families;
        try
        {
            families = isaArg switch
            {
                "all" => KernelFamily.Supported.Where(f => f != KernelFamily.Scalar).ToArray(),
                "best" => [KernelFamily.Default],
                _ => [KernelFamily.Parse(isaArg)],
            };
        }
        catch (NotSupportedException e)
        {
            Console.Error.WriteLine(e.Message);
            return 2;
        }

        using var pool = new WorkerPool(threads);
        var bandwidth = MemoryBandwidth.MeasureReadGBps(pool);
        Console.WriteLine($"threads={threads} best-isa={KernelFamily.Best} supported={string.Join(",", KernelFamily.Supported)}");
        Console.WriteLine($"memory read bandwidth: {bandwidth:F1} GB/s (best of 5 passes over 256 MiB)");
        s_clockGHz = EstimateClockGHz();
        Console.WriteLine($"core clock: {s_clockGHz:F2} GHz (a chain of dependent 1-cycle adds and xors; no PMU in a VM), so cyc/256 = cycles per 256 weights x token on one thread's share");
        Console.WriteLine();
        Console.WriteLine($"{"shape (cols x rows)",-26} {"type",-6} {"isa",-8} {"batch",5} {"us/call",10} {"GB/s",8} {"of bw",7} {"cpu us",10} {"cyc/256",8}");

        var batches = quick ? new[] { 1, 16 } : [1, 4, 16, 64];
        foreach (var family in families)
        {
            foreach (var type in new[] { GgmlType.I2_S, GgmlType.TQ2_0, GgmlType.TQ1_0 })
            {
                if (typeFilter != null && !typeFilter.Contains(type.ToString(), StringComparer.OrdinalIgnoreCase))
                {
                    continue;
                }

                foreach (var (columns, rows, label) in LayerShapes)
                {
                    Measure(pool, bandwidth, type, columns, rows, label, batches, family);
                }
            }

            foreach (var type in new[] { GgmlType.Q8_0, GgmlType.F16, GgmlType.Q6_K })
            {
                if (typeFilter != null && !typeFilter.Contains(type.ToString(), StringComparer.OrdinalIgnoreCase))
                {
                    continue;
                }

                Measure(pool, bandwidth, type, 2560, s_headRows, "lm_head", quick ? [1] : [1, 4, 16, 64], family);
                if (type == GgmlType.Q8_0 && family.Isa == KernelIsa.Avx512 && KernelFamily.IsSupported(KernelIsa.AvxVnni))
                {
                    // The in-run reference for vpdpbusd: the vpmaddubsw kernel that AVX-512 hosts without AVX-VNNI run on
                    // the same interleaved copy.
                    Measure(pool, bandwidth, type, 2560, s_headRows, "lm_head (vpmaddubsw ref)", quick ? [1, 16] : [1, 4, 16, 64], family, q8Vnni: false);
                }

                if (type == GgmlType.Q8_0 && family.Isa == KernelIsa.Avx2)
                {
                    // The in-run reference for the interleaved copy on AVX2: the block kernel on the tensor's own bytes.
                    Measure(pool, bandwidth, type, 2560, s_headRows, "lm_head (blocks ref)", quick ? [1, 16] : [1, 4, 16, 64], family, q8Blocks: true);
                }
            }
        }

        // The in-run reference: the plain scalar kernel on one shape.
        Measure(pool, bandwidth, GgmlType.I2_S, 2560, 2560, "attn_q/o (scalar ref)", [1], KernelFamily.Scalar);
        return 0;
    }

    private static void Measure(WorkerPool pool, double bandwidth, GgmlType type, int columns, int rows, string label, int[] batches, KernelFamily family, bool? q8Vnni = null, bool q8Blocks = false)
    {
        var info = GgmlTypeInfo.Of(type)!.Value;
        var size = info.ByteSize((long)rows * columns);
        var stride = (size + 63) & ~63L;
        var copies = (int)Math.Max(1, (s_workingSetBytes + stride - 1) / stride);
        var total = (nuint)(stride * copies);
        var data = s_hugePages ? HugePageMemory.Allocate((long)total) : (byte*)NativeMemory.AlignedAlloc(total, 64);
        try
        {
            Fill(type, data, stride, copies, size, columns);
            var matrices = new WeightMatrix[copies];
            for (var c = 0; c < copies; c++)
            {
                // A matrix created as lookup-only (multiplied: false) has no copy: its multiply runs the block kernel.
                matrices[c] = q8Vnni is { } vnni
                    ? new DenseMatrix(type, (nint)(data + c * stride), rows, columns, label, family, q8Vnni: vnni)
                    : q8Blocks ? new DenseMatrix(type, (nint)(data + c * stride), rows, columns, label, family, multiplied: false)
                    : WeightMatrix.Create(type, (nint)(data + c * stride), rows, columns, label, family);
            }

            foreach (var batch in batches)
            {
                var x = new ActivationBatch(batch, columns);
                var random = new Random(1);
                foreach (ref var v in x.Data)
                {
                    v = (float)(random.NextDouble() * 2 - 1);
                }

                x.MarkDirty();
                var y = new float[batch * rows];
                var cpuBefore = Environment.CpuUsage.TotalTime;
                var seconds = Time(() =>
                {
                    // Quantizing the activations is part of a real call; only the first matrix of a set pays it.
                    x.MarkDirty();
                    for (var c = 0; c < copies; c++)
                    {
                        matrices[c].Multiply(x, y, pool);
                    }
                }, copies, family == KernelFamily.Scalar);
                var gbps = size / seconds / 1e9;
                // Process CPU time per call over every timed pass: with --threads 1 this is the kernel's cost even when
                // other processes preempt it (wall-clock best-of cannot filter a machine that is busy all the time).
                var cpuMicros = (Environment.CpuUsage.TotalTime - cpuBefore).TotalMicroseconds / (copies * (s_passes + 1));
                // Cycles every thread spends per 256 weights x token (the work divided evenly over the pool's threads).
                var cycles = seconds * s_clockGHz * 1e9 * pool.Threads / ((double)rows * columns * batch / 256);
                Console.WriteLine($"{columns + " x " + rows + " " + label,-26} {type,-6} {family,-8} {batch,5} {seconds * 1e6,10:F1} {gbps,8:F1} {gbps / bandwidth,7:P0} {cpuMicros,10:F1} {cycles,8:F1}");
            }
        }
        finally
        {
            if (s_hugePages)
            {
                HugePageMemory.Free(data);
            }
            else
            {
                NativeMemory.AlignedFree(data);
            }
        }
    }

    private static double s_clockGHz;
    private static ulong s_clockSink;

    /// <summary>
    /// The core clock from a chain of dependent scalar adds and xors (one cycle of latency each on every x86 core this runs
    /// on; the operands come from memory so nothing folds, and the loop counter runs beside the chain): the best of five
    /// runs of 16 million steps. A VM exposes no cycle counter to read.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization | System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static double EstimateClockGHz()
    {
        const int Iterations = 2_000_000;
        var operands = new ulong[] { (ulong)Environment.TickCount64 | 1, (ulong)Environment.ProcessId << 7 };
        var best = double.MaxValue;
        var a = operands[0];
        var b = operands[0];
        var c = operands[1];
        for (var run = 0; run < 5; run++)
        {
            var start = Stopwatch.GetTimestamp();
            for (var i = 0; i < Iterations; i++)
            {
                a = (a + b) ^ c; a = (a + b) ^ c; a = (a + b) ^ c; a = (a + b) ^ c;
            }

            best = Math.Min(best, Stopwatch.GetElapsedTime(start).TotalSeconds);
        }

        // A sink the JIT cannot see through: with the result unused it deleted the whole chain (measured: the bare loop).
        s_clockSink = a;
        return Iterations * 8.0 / best / 1e9;
    }

    /// <summary>Best per-call time over several repetitions of the whole set of copies.</summary>
    private static int s_passes;

    private static double Time(Action pass, int callsPerPass, bool slow)
    {
        pass();
        var best = double.MaxValue;
        var deadline = Stopwatch.GetTimestamp() + Stopwatch.Frequency * (slow ? 2 : 1);
        var repetitions = 0;
        while (repetitions < 3 || (Stopwatch.GetTimestamp() < deadline && repetitions < 50))
        {
            var start = Stopwatch.GetTimestamp();
            pass();
            best = Math.Min(best, Stopwatch.GetElapsedTime(start).TotalSeconds / callsPerPass);
            repetitions++;
            s_passes = repetitions;
            if (slow)
            {
                break;
            }
        }

        return best;
    }

    /// <summary>Random codes with valid scales (random bytes would put NaN/Inf halves in block scales).</summary>
    private static void Fill(GgmlType type, byte* data, long stride, int copies, long size, int columns)
    {
        var random = new Random(7);
        var buffer = new byte[size];
        random.NextBytes(buffer);
        var one = BitConverter.HalfToUInt16Bits((Half)0.01f);
        void SetHalves(int blockBytes, int offset)
        {
            for (long p = offset; p + 2 <= buffer.LongLength; p += blockBytes)
            {
                buffer[p] = (byte)one;
                buffer[p + 1] = (byte)(one >> 8);
            }
        }

        switch (type)
        {
            case GgmlType.TQ2_0: SetHalves(66, 64); break;
            case GgmlType.TQ1_0: SetHalves(54, 52); break;
            case GgmlType.Q8_0: SetHalves(34, 0); break;
            case GgmlType.Q6_K: SetHalves(210, 208); break;
            case GgmlType.F16:
                for (long p = 1; p < buffer.LongLength; p += 2)
                {
                    buffer[p] &= 0x3b; // keep exponents small: finite values
                }

                break;
            case GgmlType.I2_S:
                BitConverter.GetBytes(0.5f).CopyTo(buffer, size - 32);
                break;
        }

        for (var c = 0; c < copies; c++)
        {
            buffer.AsSpan().CopyTo(new Span<byte>(data + c * stride, (int)size));
        }
    }
}
