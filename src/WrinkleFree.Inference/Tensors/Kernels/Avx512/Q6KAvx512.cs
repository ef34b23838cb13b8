using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace WrinkleFree.Inference.Tensors.Kernels.Avx512;

// The sibling namespace Kernels.Avx2 hides the X86 Avx2 class from code here; the alias brings the class back.
using Avx2 = System.Runtime.Intrinsics.X86.Avx2;

/// <summary>
/// Vectorized Q6_K row decode. Each 16-value sub-block has one scale, so it becomes exactly one 512-bit float vector:
/// assemble the 6-bit values from the low-nibble and high-bit planes 32 at a time, widen, subtract 32, scale.
/// A tied Q6_K embedding is also the LM head, so this decode runs for every vocabulary row every token.
/// </summary>
internal static unsafe class Q6KAvx512
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void DecodeRow(byte* row, int blocks, float* destination)
    {
        var low = Vector256.Create((byte)0x0F);
        var two = Vector256.Create((byte)3);
        var bias = Vector512.Create(32);
        for (var k = 0; k < blocks; k++)
        {
            var block = row + k * BlockDecoders.Q6KBlockBytes;
            var scales = (sbyte*)(block + 192);
            var d = BlockDecoders.Half(block + 208);
            var y = destination + k * 256;
            for (var half = 0; half < 2; half++)
            {
                var ql = block + half * 64;
                var qh = Vector256.Load(block + 128 + half * 32);
                var ql0 = Vector256.Load(ql);
                var ql1 = Vector256.Load(ql + 32);
                var sc = scales + half * 8;
                var o = y + half * 128;
                Emit((ql0 & low) | ShiftLeft4(qh & two), sc, d, bias, o);
                Emit((ql1 & low) | ShiftLeft4(ShiftRight(qh, 2) & two), sc + 2, d, bias, o + 32);
                Emit(ShiftRight(ql0, 4) & low | ShiftLeft4(ShiftRight(qh, 4) & two), sc + 4, d, bias, o + 64);
                Emit(ShiftRight(ql1, 4) & low | ShiftLeft4(ShiftRight(qh, 6) & two), sc + 6, d, bias, o + 96);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> ShiftRight(Vector256<byte> v, [ConstantExpected] byte bits) => Avx2.ShiftRightLogical(v.AsUInt16(), bits).AsByte();

    // The 2-bit field is masked before shifting, so a 16-bit shift cannot carry bits across bytes.
    private static Vector256<byte> ShiftLeft4(Vector256<byte> v) => Avx2.ShiftLeftLogical(v.AsUInt16(), 4).AsByte();

    /// <summary>32 six-bit values: two sub-blocks of 16 with scales sc[0] and sc[1].</summary>
    private static void Emit(Vector256<byte> q, sbyte* sc, float d, Vector512<int> bias, float* o)
    {
        var first = Avx512F.ConvertToVector512Int32(q.GetLower()) - bias;
        var second = Avx512F.ConvertToVector512Int32(q.GetUpper()) - bias;
        (Avx512F.ConvertToVector512Single(first) * Vector512.Create(d * sc[0])).Store(o);
        (Avx512F.ConvertToVector512Single(second) * Vector512.Create(d * sc[1])).Store(o + 16);
    }
}
