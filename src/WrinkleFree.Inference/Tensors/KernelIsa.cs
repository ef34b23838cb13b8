namespace WrinkleFree.Inference.Tensors;

/// <summary>The instruction-set family a kernel is written for.</summary>
internal enum KernelIsa
{
    Scalar,
    Avx2,
    Avx512,
}
