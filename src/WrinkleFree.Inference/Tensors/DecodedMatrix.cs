using System.Runtime.CompilerServices;
using System.Numerics.Tensors;
using WrinkleFree.Inference.Gguf;
using WrinkleFree.Inference.Tensors.Kernels;
using WrinkleFree.Inference.Tensors.Kernels.Avx512;
using WrinkleFree.Inference.Threading;

namespace WrinkleFree.Inference.Tensors;

/// <summary>
/// Types that only serve as embeddings (Q6_K): a multiply decodes each row to floats and takes float dot products. Correct
/// rather than fast; the hot matrices have their own kernels.
/// </summary>
internal sealed unsafe class DecodedMatrix : WeightMatrix
{
    [ThreadStatic]
    private static float[]? t_row;

    private const int MaxStackColumns = 16384;

    private Job? _job;

    public DecodedMatrix(GgmlType type, nint data, int rows, int columns, string name, KernelFamily kernels)
        : base(type, data, rows, columns, name, kernels)
    {
    }

    public override void Multiply(ActivationBatch x, Span<float> y, WorkerPool pool)
    {
        Validate(x, y, pool);
        var job = Interlocked.Exchange(ref _job, null) ?? new Job(this);
        fixed (float* py = y)
        {
            job.X = x.Pointer;
            job.Batch = x.Batch;
            job.Y = py;
            pool.Run(job, Rows);
        }

        job.X = null;
        job.Y = null;
        _job = job;
    }

    public override void GetRow(int row, Span<float> destination)
    {
        ValidateRow(row, destination);
        BlockDecoders.DecodeRow(Type, Data + row * RowBytes, Columns, 1f, destination);
    }

    private sealed class Job(DecodedMatrix matrix) : IParallelWork
    {
        public float* X;
        public float* Y;
        public int Batch;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Execute(int start, int end)
        {
            var columns = matrix.Columns;
            // Rows of embedding width fit on the stack, so no thread ever allocates (the caller thread may run its first
            // chunk long after warm-up); only very wide rows fall back to a per-thread buffer.
            var row = columns <= MaxStackColumns
                ? stackalloc float[columns]
                : (t_row is { } existing && existing.Length >= columns ? existing : t_row = new float[columns]).AsSpan(0, columns);
            var fast = matrix.Kernels.Isa == KernelIsa.Avx512 && matrix.Type == GgmlType.Q6_K;
            for (var r = start; r < end; r++)
            {
                if (fast)
                {
                    fixed (float* destination = row)
                    {
                        Q6KAvx512.DecodeRow(matrix.Data + r * matrix.RowBytes, columns / 256, destination);
                    }
                }
                else
                {
                    matrix.GetRow(r, row);
                }

                for (var b = 0; b < Batch; b++)
                {
                    Y[(long)b * matrix.Rows + r] = TensorPrimitives.Dot(row, new ReadOnlySpan<float>(X + (long)b * columns, columns));
                }
            }
        }
    }
}
