using WrinkleFree.Inference.Gguf;
using WrinkleFree.Inference.Tensors.Kernels;
using WrinkleFree.Inference.Threading;

namespace WrinkleFree.Inference.Tensors;

/// <summary>I2_S, TQ2_0, TQ1_0, Q2_0, IQ1_BN and IQ2_BN weights multiplied as ternary codes against absmax int8 activations.</summary>
internal sealed unsafe class TernaryMatrix : WeightMatrix
{
    private readonly float _tensorScale;

    // A TQ2_0 tensor with one scale per row is repacked once into the I2_S layout (see TernaryRepack); the copy replaces
    // the mapping for every multiply, so the file's pages are not read again.
    // The copy is on transparent huge pages (Native.HugePageMemory): it is streamed every token, and 2 MiB pages spare the
    // TLB a miss every 4 KiB.
    private readonly Native.HugePageMemory? _packed;
    private readonly PinnedBuffer<float>? _rowScales;
    private readonly delegate*<in TernaryArgs, int, int, void> _kernel;
    private Job? _job;

    public TernaryMatrix(GgmlType type, nint data, int rows, int columns, string name, KernelFamily kernels, bool multiplied = true)
        : base(type, data, rows, columns, name, kernels)
    {
        _tensorScale = type == GgmlType.I2_S ? *(float*)(Data + (long)rows * columns / 4) : 1f;
        var fits = (long)rows * columns / 4 <= int.MaxValue;
        string? refusal = null;
        var repacked = Formats.IqBnLayout.Applies(type)
            // No kernels read ik_llama.cpp's layouts directly: every use, lookups included, goes through the I2_S copy.
            ? Repack(rows, columns, (packed, scales) =>
            {
                TernaryRepack.FromIqBn(type, Data, rows, columns, packed, scales);
                return true;
            })
            : type == GgmlType.Q2_0
                ? Repack(rows, columns, (packed, scales) => (refusal = TernaryRepack.FromQ20(Data, rows, columns, packed, scales)) is null)
            : multiplied && fits && type == GgmlType.TQ1_0
                ? Repack(rows, columns, (packed, scales) => TernaryRepack.FromTq1(Data, rows, columns, packed, scales))
            : multiplied && fits && TernaryRepack.Applies(type)
                ? Repack(rows, columns, (packed, scales) =>
                {
                    if (!TernaryRepack.TryUniformRowScales(Data, rows, columns, scales))
                    {
                        return false;
                    }

                    TernaryRepack.ToI2S(Data, rows, columns, packed);
                    return true;
                })
            : null;
        if (refusal is not null)
        {
            throw new NotSupportedException($"tensor '{name}': Q2_0 runs here as ternary weights with one scale per row, but {refusal}");
        }

        (_packed, _rowScales) = repacked is { } copy ? (copy.Packed, copy.Scales) : (null, null);
        _kernel = kernels.Ternary(KernelType);
    }

    private delegate bool RepackInto(byte* packed, float* rowScales);

    /// <summary>
    /// An I2_S copy (2 bits a weight, on huge pages) and one scale per row, filled by <paramref name="repack"/>; null, with
    /// the copy released, when it declines (the tensor keeps its own layout and kernel).
    /// </summary>
    private static (Native.HugePageMemory Packed, PinnedBuffer<float> Scales)? Repack(int rows, int columns, RepackInto repack)
    {
        var scales = new PinnedBuffer<float>(rows);
        var packed = new Native.HugePageMemory((long)rows * (columns / 4));
        if (repack(packed.Pointer, scales.Pointer))
        {
            return (packed, scales);
        }

        packed.Dispose();
        return null;
    }

    /// <summary>True when the multiplies read a repacked copy instead of the tensor's bytes.</summary>
    internal override bool Repacked => _packed != null;

    internal override IEnumerable<Native.HugePageMemory> Copies => _packed is { } p ? [p] : [];

    /// <summary>The type whose kernels run: I2_S for a repacked TQ2_0, TQ1_0, Q2_0, IQ1_BN or IQ2_BN tensor.</summary>
    internal GgmlType KernelType => _packed != null ? GgmlType.I2_S : Type;

    /// <summary>The kernel every multiply runs: the family's kernel for <see cref="KernelType"/>.</summary>
    internal delegate*<in TernaryArgs, int, int, void> Kernel => _kernel;

    public override void Multiply(ActivationBatch x, Span<float> y, WorkerPool pool)
    {
        Validate(x, y, pool);
        // A matrix may be shared by callers on several threads; each takes its own job, and steady state allocates none.
        var job = Interlocked.Exchange(ref _job, null) ?? new Job();
        fixed (float* py = y)
        {
            job.Args = Arguments(x, py, pool);
            job.Kernel = _kernel;
            pool.Run(job, Rows);
        }

        job.Args = default;
        _job = job;
    }

    /// <summary>The kernel arguments for one multiply of <paramref name="x"/> into <paramref name="y"/> (x is quantized on <paramref name="pool"/> if it changed).</summary>
    internal TernaryArgs Arguments(ActivationBatch x, float* y, WorkerPool pool)
    {
        var args = TernaryArgs.For(_packed != null ? _packed.Pointer : Data, Rows, Columns, _tensorScale, x.GetInt8(pool), x.Batch, y);
        args.RowScale = _rowScales != null ? _rowScales.Pointer : null;
        return args;
    }

    public override void GetRow(int row, Span<float> destination)
    {
        ValidateRow(row, destination);
        if (_packed != null)
        {
            BlockDecoders.DecodeRow(GgmlType.I2_S, _packed.Pointer + (long)row * (Columns / 4), Columns, _rowScales!.Pointer[row], destination);
            return;
        }

        BlockDecoders.DecodeRow(Type, Data + row * RowBytes, Columns, _tensorScale, destination);
    }

    private sealed class Job : IParallelWork
    {
        public TernaryArgs Args;
        public delegate*<in TernaryArgs, int, int, void> Kernel;

        public void Execute(int start, int end) => Kernel(in Args, start, end);
    }
}
