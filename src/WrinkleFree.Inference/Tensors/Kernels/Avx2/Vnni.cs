using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace WrinkleFree.Inference.Tensors.Kernels.Avx2;

/// <summary>
/// The AVX-VNNI step: one vpdpbusd accumulates the u8×s8 products straight into int32 lanes. The VNNI kernels are the
/// AVX2 loops instantiated with this step, which is why they live beside them.
/// </summary>
internal readonly struct Vnni : IByteDot
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Add(Vector256<int> acc, Vector256<byte> codes, Vector256<sbyte> q) =>
        AvxVnni.MultiplyWideningAndAdd(acc, codes, q);
}
