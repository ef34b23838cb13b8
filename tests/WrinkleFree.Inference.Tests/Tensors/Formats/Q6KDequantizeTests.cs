using WrinkleFree.Inference.Gguf;
using WrinkleFree.Inference.Tensors.Formats;

namespace WrinkleFree.Inference.Tests.Tensors.Formats;

public sealed class Q6KDequantizeTests
{
    [Fact]
    public void Dequantize_HandBuiltBlock_MatchesLayout()
    {
        // Layout: ql[128] at 0, qh[64] at 128, int8 scales[16] at 192, fp16 d at 208. Value v = d·scales[v/16]·(code − 32).
        var block = new byte[210];
        sbyte[] scales = [1, 2, 3, 4, 5, 6, 7, 8, -3, 10, 11, 12, 13, 14, 15, 16];
        for (var s = 0; s < 16; s++)
        {
            block[192 + s] = (byte)scales[s];
        }

        block[208] = 0x00;  // d = 0.5 (fp16 0x3800)
        block[209] = 0x38;

        block[0] = 0x21;    // ql[0]: low nibble → v0 = 1, high nibble → v64 = 2
        block[32] = 0x43;   // ql[32]: low nibble → v32 = 3, high nibble → v96 = 4
        block[128] = 0xE4;  // qh[0] = 11 10 01 00: top bits of v0 = 0, v32 = 1, v64 = 2, v96 = 3
        block[64 + 5] = 0x0F;     // second half, ql[64 + 5] low nibble → v133 = 15
        block[128 + 32 + 5] = 0x02;  // qh[32 + 5] bits 1-0 = 2 → v133 top bits 2

        var codes = new int[256];  // every other value has code 0 → −32
        codes[0] = 1;
        codes[32] = 3 + 16;
        codes[64] = 2 + 32;
        codes[96] = 4 + 48;
        codes[133] = 15 + 32;

        var values = new float[256];
        TensorCodec.Dequantize(GgmlType.Q6_K, block, values);
        for (var v = 0; v < 256; v++)
        {
            Assert.Equal(0.5f * scales[v / 16] * (codes[v] - 32), values[v]);
        }
    }

    [Fact]
    public void QuantizeThenDequantize_SmoothRamp_IsCloseAndKeepsSign()
    {
        var x = new float[256];
        for (var i = 0; i < x.Length; i++)
        {
            x[i] = (i - 128) / 64f;
        }

        var bytes = new byte[210];
        TensorCodec.Quantize(GgmlType.Q6_K, x, bytes);
        var back = new float[256];
        TensorCodec.Dequantize(GgmlType.Q6_K, bytes, back);
        for (var i = 0; i < x.Length; i++)
        {
            Assert.InRange(back[i] - x[i], -0.04f, 0.04f);
        }
    }
}
