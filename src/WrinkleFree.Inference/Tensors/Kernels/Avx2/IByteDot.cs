using System.Runtime.Intrinsics;

namespace WrinkleFree.Inference.Tensors.Kernels.Avx2;

/// <summary>One u8×s8 multiply-accumulate step into int32 lanes; a struct type argument so the JIT specializes each.</summary>
internal interface IByteDot
{
    static abstract Vector256<int> Add(Vector256<int> acc, Vector256<byte> codes, Vector256<sbyte> q);
}
