using WrinkleFree.Inference.Native;
using WrinkleFree.Inference.Tensors.Kernels;

namespace WrinkleFree.Inference.Tensors;

/// <summary>
/// A load-time copy of a Q8_0 tensor in the layout a kernel reads (<see cref="Q8Interleaved"/>): int8 values and float
/// block scales in one stream on transparent huge pages.
/// </summary>
internal abstract unsafe class Q8Copy : IDisposable
{
    protected Q8Copy(int columns, long quantBytes, int stride, int items)
    {
        ArgumentOutOfRangeException.ThrowIfNotEqual(columns % 32, 0, nameof(columns));
        Blocks = columns / 32;
        Stride = stride;
        Items = items;
        Quants = new HugePageMemory(quantBytes);
    }

    /// <summary>32-value blocks per row.</summary>
    public int Blocks { get; }

    /// <summary>Bytes from one work item's values (a row, or a group of rows) to the next's.</summary>
    public int Stride { get; }

    /// <summary>The kernel's work items: rows, or groups of rows.</summary>
    public int Items { get; }

    public HugePageMemory Quants { get; }

    /// <summary>The memory this copy holds (for locking and release).</summary>
    public IEnumerable<HugePageMemory> Memory => [Quants];

    /// <summary>The copy <paramref name="layout"/> names, or null for <see cref="Q8Layout.Blocks"/> (the tensor's own bytes).</summary>
    public static Q8Copy? For(Q8Layout layout, byte* q8, int rows, int columns) => layout switch
    {
        Q8Layout.Interleaved => new Q8Interleaved(q8, rows, columns),
        _ => null,
    };

    /// <summary>Points <paramref name="args"/> at this copy (what the layout's kernel reads).</summary>
    public void Apply(ref DenseArgs args)
    {
        args.Weights = Quants.Pointer;
        args.WeightStride = Stride;
    }

    public void Dispose()
    {
        Quants.Dispose();
    }
}
