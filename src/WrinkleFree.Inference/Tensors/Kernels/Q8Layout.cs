namespace WrinkleFree.Inference.Tensors.Kernels;

/// <summary>Where a Q8_0 kernel reads its weights from.</summary>
internal enum Q8Layout
{
    /// <summary>The tensor's own 34-byte blocks (a half scale and 32 int8 values).</summary>
    Blocks,

    /// <summary>A <see cref="Q8Repack"/>: aligned int8 rows and float scales (the AVX-512 vpmaddubsw kernel).</summary>
    Rows,

    /// <summary>A <see cref="Q8Interleaved"/>: groups of eight rows for vpdpbusd; the kernel's items are groups.</summary>
    Interleaved,
}
