using WrinkleFree.Inference.Gguf;
using WrinkleFree.Inference.Tensors.Kernels;
using WrinkleFree.Inference.Threading;

namespace WrinkleFree.Inference.Tensors;

/// <summary>Q8_0 (int8 dot products against Q8_0-quantized activations) and F32/F16/BF16 (float FMA) weights.</summary>
internal sealed unsafe class DenseMatrix : WeightMatrix
{
    // Q8_0 is copied once at load into the layout every SIMD family's kernel reads (Q8Interleaved); the scalar family
    // reads the tensor's own blocks.
    private readonly Q8Interleaved? _copy;
    private readonly delegate*<in DenseArgs, int, int, void> _kernel;
    private Job? _job;

    /// <param name="q8Vnni">Q8_0 on AVX-512 only: false runs the vpmaddubsw kernel where AVX-VNNI is present (the kernels bench compares them).</param>
    public DenseMatrix(GgmlType type, nint data, int rows, int columns, string name, KernelFamily kernels, bool multiplied = true, bool? q8Vnni = null)
        : base(type, data, rows, columns, name, kernels)
    {
        if (type != GgmlType.Q8_0)
        {
            _kernel = kernels.Dense(type);
            return;
        }

        // Created as lookup-only, there is no copy; if it is multiplied after all, a kernel reads the tensor's blocks.
        var layout = multiplied ? kernels.Q8Layout : Q8Layout.Blocks;
        _copy = Q8Interleaved.For(layout, Data, rows, columns);
        _kernel = kernels.Q8(layout, q8Vnni);
    }

    internal override bool Repacked => _copy != null;

    internal override IEnumerable<Native.HugePageMemory> Copies => _copy?.Memory ?? [];

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
            args.Q8Sums = q8.Sums.Pointer;
        }

        _copy?.Apply(ref args);
        var job = Interlocked.Exchange(ref _job, null) ?? new Job();
        fixed (float* py = y)
        {
            args.Y = py;
            job.Args = args;
            job.Kernel = _kernel;
            pool.Run(job, _copy?.Groups ?? Rows);
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
