namespace WrinkleFree.Inference.Tensors.Kernels;

/// <summary>The instruction-set family a kernel is written for (<see cref="KernelFamily.Get"/> gives its kernels).</summary>
public enum KernelIsa
{
    Scalar,

    /// <summary>256-bit AVX2 + FMA, int8 products through vpmaddubsw/vpmaddwd.</summary>
    Avx2,

    /// <summary>256-bit VEX AVX-VNNI vpdpbusd for the int8 products (.NET has no 512-bit VNNI API).</summary>
    AvxVnni,

    /// <summary>512-bit AVX-512 F/BW; int8 products through vpmaddubsw with 16-bit accumulation.</summary>
    Avx512,
}
