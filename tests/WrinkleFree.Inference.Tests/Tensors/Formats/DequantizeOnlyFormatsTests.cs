using WrinkleFree.Inference.Gguf;
using WrinkleFree.Inference.Tensors.Formats;

namespace WrinkleFree.Inference.Tests.Tensors.Formats;

/// <summary>Hand-built blocks for the formats the engine only reads (no quantizer to round-trip against).</summary>
public sealed class DequantizeOnlyFormatsTests
{
    [Fact]
    public void DequantizeQ4_0_HandBuiltBlock_MatchesLayout()
    {
        var block = new byte[18];
        block[1] = 0x38;     // d = 0.5
        block[2] = 0x9F;     // qs[0]: low nibble → v0 = 15, high nibble → v16 = 9
        var expected = Filled(32, (0 - 8) * 0.5f);
        expected[0] = (15 - 8) * 0.5f;
        expected[16] = (9 - 8) * 0.5f;
        Assert.Equal(expected, Decode(GgmlType.Q4_0, block, 32));
    }

    [Fact]
    public void DequantizeQ4_1_HandBuiltBlock_AddsMin()
    {
        var block = new byte[20];
        block[1] = 0x38;     // d = 0.5
        block[3] = 0xBC;     // m = -1 (fp16 0xBC00)
        block[4 + 2] = 0x3A; // qs[2]: v2 = 10, v18 = 3
        var expected = Filled(32, -1f);
        expected[2] = 10 * 0.5f - 1;
        expected[18] = 3 * 0.5f - 1;
        Assert.Equal(expected, Decode(GgmlType.Q4_1, block, 32));
    }

    [Fact]
    public void DequantizeQ5_0_HandBuiltBlock_UsesFifthBits()
    {
        var block = new byte[22];
        block[1] = 0x38;                                          // d = 0.5
        BitConverter.GetBytes((1u << 0) | (1u << 17)).CopyTo(block, 2); // qh: fifth bit of v0 and of v17
        block[6] = 0x0F;                                          // qs[0]: v0 low nibble 15, v16 high nibble 0
        block[7] = 0x20;                                          // qs[1]: v1 low nibble 0, v17 high nibble 2
        var expected = Filled(32, -16 * 0.5f);
        expected[0] = (31 - 16) * 0.5f;
        expected[17] = (18 - 16) * 0.5f;
        Assert.Equal(expected, Decode(GgmlType.Q5_0, block, 32));
    }

    [Fact]
    public void DequantizeQ5_1_HandBuiltBlock_UsesFifthBitsAndMin()
    {
        var block = new byte[24];
        block[1] = 0x3C;                               // d = 1
        block[3] = 0x40;                               // m = 2 (fp16 0x4000)
        BitConverter.GetBytes(1u << 31).CopyTo(block, 4); // fifth bit of v31
        block[8 + 15] = 0x10;                          // qs[15]: v31 high nibble 1
        var expected = Filled(32, 2f);
        expected[31] = 17 + 2f;
        Assert.Equal(expected, Decode(GgmlType.Q5_1, block, 32));
    }

    [Fact]
    public void DequantizeQ4_K_HandBuiltBlock_UnpacksSixBitScalesAndMins()
    {
        var block = new byte[144];
        block[1] = 0x3C;          // d = 1
        block[3] = 0x38;          // dmin = 0.5
        var scales = block.AsSpan(4, 12);
        scales[0] = 2;            // sub-block 0: scale 2 (low 6 bits of byte 0)
        scales[4] = 1;            //              min 1 (low 6 bits of byte 4)
        scales[9] = 0x34;         // sub-block 5: scale low nibble 4, min low nibble 3 (byte 9)
        scales[1] = 0x40;         //              scale high bits 01 from byte 1's top bits → 20; sub-block 1 keeps scale 0
        block[16] = 0x07;         // qs[0] low nibble → v0 (sub-block 0) = 7
        block[16 + 64 + 3] = 0xA0; // qs[67] high nibble → v163 (pair 2, second half: sub-block 5) = 10

        var expected = new float[256];
        Array.Fill(expected, -0.5f * 1, 0, 32);     // sub-block 0: 2·0 − 0.5·1
        Array.Fill(expected, -0.5f * 3, 160, 32);   // sub-block 5: 20·0 − 0.5·3
        expected[0] = 2 * 7 - 0.5f;
        expected[163] = 20 * 10 - 1.5f;
        Assert.Equal(expected, Decode(GgmlType.Q4_K, block, 256));
    }

    [Fact]
    public void DequantizeQ5_K_HandBuiltBlock_UsesFifthBitPerSubBlock()
    {
        var block = new byte[176];
        block[1] = 0x3C;          // d = 1
        var scales = block.AsSpan(4, 12);
        scales[3] = 1;            // sub-block 3: scale 1, min 0
        block[16 + 5] = 1 << 3;   // qh[5] bit 3 → fifth bit of sub-block 3's value 5, i.e. v96 + 5 = v101
        block[48 + 32 + 5] = 0x20; // qs[37] high nibble → v101 low bits 2
        var expected = new float[256];
        expected[101] = 16 + 2;
        Assert.Equal(expected, Decode(GgmlType.Q5_K, block, 256));
    }

    private static float[] Filled(int count, float value)
    {
        var values = new float[count];
        Array.Fill(values, value);
        return values;
    }

    private static float[] Decode(GgmlType type, byte[] block, int count)
    {
        var values = new float[count];
        TensorCodec.Dequantize(type, block, values);
        return values;
    }
}
