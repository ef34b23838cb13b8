using WrinkleFree.Inference.Gguf;
using WrinkleFree.Inference.Tensors.Kernels;
using WrinkleFree.Inference.Threading;

namespace WrinkleFree.Inference.Tensors;

/// <summary>Q8_0 (int8 dot products against Q8_0-quantized activations) and F32/F16/BF16 (float FMA) weights.</summary>
internal sealed unsafe class DenseMatrix : WeightMatrix
{
    // Q8_0 for the AVX-512 family is copied once into the layout its AVX-512 kernels read (see Q8Repack); the other kernel
    // families read the tensor's own bytes.
    private readonly Q8Repack? _repack;
    private readonly delegate*<in DenseArgs, int, int, void> _kernel;
    private Job? _job;

    public DenseMatrix(GgmlType type, nint data, int rows, int columns, string name, KernelFamily kernels, bool multiplied = true)
        : base(type, data, rows, columns, name, kernels)
    {
        var family = kernels;
        if (type == GgmlType.Q8_0 && kernels.Isa == KernelIsa.Avx512)
        {
            if (multiplied)
            {
                _repack = new Q8Repack(Data, rows, columns);
            }
            else
            {
                // Created as lookup-only, so no copy; if it is multiplied after all, the 256-bit kernels read the block layout.
                family = KernelFamily.Get(KernelFamily.IsSupported(KernelIsa.AvxVnni) ? KernelIsa.AvxVnni : KernelIsa.Avx2);
            }
        }

        _kernel = family.Dense(type);
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

        _repack?.Apply(ref args);
        var job = Interlocked.Exchange(ref _job, null) ?? new Job();
        fixed (float* py = y)
        {
            args.Y = py;
            job.Args = args;
            job.Kernel = _kernel;
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

    private sealed class Job : IParallelWork
    {
        public DenseArgs Args;
        public delegate*<in DenseArgs, int, int, void> Kernel;

        public void Execute(int start, int end) => Kernel(in Args, start, end);
    }
}
