namespace WrinkleFree.Inference.Tensors.Kernels;

/// <summary>Where a Q8_0 kernel reads its weights from.</summary>
internal enum Q8Layout
{
    /// <summary>The tensor's own 34-byte blocks (a half scale and 32 int8 values).</summary>
    Blocks,

    /// <summary>
    /// A <see cref="Q8Interleaved"/>: groups of eight rows for vpdpbusd (AVX-VNNI) or the AVX-512 vpmaddubsw kernel; the
    /// kernel's items are groups.
    /// </summary>
    Interleaved,
}
