using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace WrinkleFree.Inference.Tensors.Kernels.Avx2;

// This namespace's name hides the X86 Avx2 class from code inside it; the alias brings the class back.
using Avx2 = System.Runtime.Intrinsics.X86.Avx2;

/// <summary>The AVX2 step: vpmaddubsw to 16-bit pairs, then vpmaddwd by one to widen them into int32 lanes.</summary>
internal readonly struct MaddUbs : IByteDot
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Add(Vector256<int> acc, Vector256<byte> codes, Vector256<sbyte> q) =>
        acc + Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(codes, q), Vector256.Create((short)1));
}
