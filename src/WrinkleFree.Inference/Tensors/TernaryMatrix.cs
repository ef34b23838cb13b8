using WrinkleFree.Inference.Gguf;
using WrinkleFree.Inference.Threading;

namespace WrinkleFree.Inference.Tensors;

/// <summary>I2_S, TQ2_0 and TQ1_0 weights multiplied as ternary codes against absmax int8 activations.</summary>
internal sealed unsafe class TernaryMatrix : WeightMatrix
{
    private readonly float _tensorScale;
    private Job? _job;

    public TernaryMatrix(GgmlType type, nint data, int rows, int columns, string name)
        : base(type, data, rows, columns, name)
    {
        _tensorScale = type == GgmlType.I2_S ? *(float*)(Data + (long)rows * columns / 4) : 1f;
    }

    public override void Multiply(ActivationBatch x, Span<float> y, WorkerPool pool)
    {
        Validate(x, y, pool);
        var activations = x.GetInt8();
        // A matrix may be shared by callers on several threads; each takes its own job, and steady state allocates none.
        var job = Interlocked.Exchange(ref _job, null) ?? new Job();
        fixed (float* py = y)
        {
            job.Args = TernaryArgs.For(Data, Rows, Columns, _tensorScale, activations, x.Batch, py);
            job.Kernel = Select(Type, KernelDispatch.Current);
            pool.Run(job, Rows);
        }

        job.Args = default;
        _job = job;
    }

    public override void GetRow(int row, Span<float> destination)
    {
        ValidateRow(row, destination);
        BlockDecoders.DecodeRow(Type, Data + row * RowBytes, Columns, _tensorScale, destination);
    }

    internal static delegate*<in TernaryArgs, int, int, void> Select(GgmlType type, KernelIsa isa) => (type, isa) switch
    {
        (GgmlType.I2_S, KernelIsa.Avx512) => &TernaryGemmAvx512.I2S,
        (GgmlType.I2_S, KernelIsa.AvxVnni) => &TernaryAvx2.I2SVnni,
        (GgmlType.I2_S, KernelIsa.Avx2) => &TernaryAvx2.I2S,
        (GgmlType.I2_S, _) => &ScalarKernels.I2S,
        (GgmlType.TQ2_0, KernelIsa.Avx512) => &TernaryAvx512.TQ2,
        (GgmlType.TQ2_0, KernelIsa.AvxVnni) => &TernaryAvx2.TQ2Vnni,
        (GgmlType.TQ2_0, KernelIsa.Avx2) => &TernaryAvx2.TQ2,
        (GgmlType.TQ2_0, _) => &ScalarKernels.TQ2,
        (GgmlType.TQ1_0, KernelIsa.Avx512) => &TernaryAvx512.TQ1,
        _ => &ScalarKernels.TQ1,
    };

    private sealed class Job : IParallelWork
    {
        public TernaryArgs Args;
        public delegate*<in TernaryArgs, int, int, void> Kernel;

        public void Execute(int start, int end) => Kernel(in Args, start, end);
    }
}
