using WrinkleFree.Inference.Gguf;
using WrinkleFree.Inference.Tensors.Kernels;
using WrinkleFree.Inference.Tensors.Kernels.Avx2;
using WrinkleFree.Inference.Tensors.Kernels.Avx512;
using WrinkleFree.Inference.Tensors.Kernels.Scalar;
using WrinkleFree.Inference.Threading;

namespace WrinkleFree.Inference.Tensors;

/// <summary>Q8_0 (int8 dot products against Q8_0-quantized activations) and F32/F16/BF16 (float FMA) weights.</summary>
internal sealed unsafe class DenseMatrix : WeightMatrix
{
    // Q8_0 on an AVX-512 machine is copied once into the layout its AVX-512 kernels read (see Q8Repack); the other kernel
    // families (tests and the bench may pin them) keep reading the tensor's own bytes.
    private readonly Q8Repack? _repack;
    private Job? _job;

    public DenseMatrix(GgmlType type, nint data, int rows, int columns, string name, bool multiplied = true)
        : base(type, data, rows, columns, name)
    {
        if (multiplied && type == GgmlType.Q8_0 && KernelDispatch.IsSupported(KernelIsa.Avx512))
        {
            _repack = new Q8Repack(Data, rows, columns);
        }
    }

    internal override bool Repacked => _repack != null;

    internal override IEnumerable<Native.HugePageMemory> Copies => _repack is { } r ? [r.Quants, r.Scales] : [];

    public override void Multiply(ActivationBatch x, Span<float> y, WorkerPool pool)
    {
        Validate(x, y, pool);
        var args = new DenseArgs { Weights = Data, Rows = Rows, Columns = Columns, Batch = x.Batch, X = x.Pointer };
        if (Type == GgmlType.Q8_0)
        {
            var q8 = x.GetQ8();
            args.Q8 = q8.Q.Pointer;
            args.Q8Scale = q8.Scale.Pointer;
            args.Q8Stride = q8.Stride;
            args.Q8Blocks = q8.Blocks;
        }

        var isa = KernelDispatch.Current;
        if (Type == GgmlType.Q8_0 && isa == KernelIsa.Avx512)
        {
            if (_repack is { } repack)
            {
                repack.Apply(ref args);
            }
            else
            {
                // Created as lookup-only but multiplied after all: the 256-bit kernels read the block layout.
                isa = KernelDispatch.IsSupported(KernelIsa.AvxVnni) ? KernelIsa.AvxVnni : KernelIsa.Avx2;
            }
        }

        var job = Interlocked.Exchange(ref _job, null) ?? new Job();
        fixed (float* py = y)
        {
            args.Y = py;
            job.Args = args;
            job.Kernel = Select(Type, isa);
            pool.Run(job, Rows);
        }

        job.Args = default;
        _job = job;
    }

    public override void GetRow(int row, Span<float> destination)
    {
        ValidateRow(row, destination);
        BlockDecoders.DecodeRow(Type, Data + row * RowBytes, Columns, 1f, destination);
    }

    internal static delegate*<in DenseArgs, int, int, void> Select(GgmlType type, KernelIsa isa) => (type, isa) switch
    {
        (GgmlType.Q8_0, KernelIsa.Avx512) => &Q8Avx512.Multiply,
        (GgmlType.Q8_0, KernelIsa.AvxVnni) => &Q8Avx2.MultiplyVnni,
        (GgmlType.Q8_0, KernelIsa.Avx2) => &Q8Avx2.Multiply,
        (GgmlType.Q8_0, _) => &ScalarKernels.Q8_0,
        (GgmlType.F32, KernelIsa.Avx512) => &FloatAvx512.F32,
        (GgmlType.F32, KernelIsa.Avx2 or KernelIsa.AvxVnni) => &FloatAvx2.F32,
        (GgmlType.F32, _) => &ScalarKernels.F32,
        (GgmlType.F16, KernelIsa.Avx512) => &FloatAvx512.F16,
        (GgmlType.F16, KernelIsa.Avx2 or KernelIsa.AvxVnni) => &FloatAvx2.F16,
        (GgmlType.F16, _) => &ScalarKernels.F16,
        (GgmlType.BF16, KernelIsa.Avx512) => &FloatAvx512.BF16,
        (GgmlType.BF16, KernelIsa.Avx2 or KernelIsa.AvxVnni) => &FloatAvx2.BF16,
        _ => &ScalarKernels.BF16,
    };

    private sealed class Job : IParallelWork
    {
        public DenseArgs Args;
        public delegate*<in DenseArgs, int, int, void> Kernel;

        public void Execute(int start, int end) => Kernel(in Args, start, end);
    }
}
