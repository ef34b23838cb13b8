using WrinkleFree.Inference.Gguf;
using WrinkleFree.Inference.Tensors.Formats;

namespace WrinkleFree.Inference.Tests.Tensors.Formats;

/// <summary>Byte-exact checks of one 256-value block, with the expected bytes worked out by hand from the layout text.</summary>
public sealed class TernaryLayoutTests
{
    // Zeros everywhere except: v0 = +1, v33 = -1, v170 = +1 (TQ1_0 second qs group), v200 = +1, v240 = +1, v255 = -1.
    private static sbyte[] Trits()
    {
        var t = new sbyte[256];
        t[0] = 1;
        t[33] = -1;
        t[170] = 1;
        t[200] = 1;
        t[240] = 1;
        t[255] = -1;
        return t;
    }

    [Fact]
    public void EncodeTq2_0_OneBlock_MatchesHandPackedBytes()
    {
        var expected = new byte[66];
        Array.Fill(expected, (byte)0x55, 0, 64);   // code 1 (zero) in all four 2-bit fields
        expected[0] = 0x56;                        // v0: chunk 0, byte 0, bits 1-0 = code 2
        expected[1] = 0x51;                        // v33: chunk 0, byte 1, bits 3-2 = code 0
        expected[32 + 10] = 0x59;                  // v170 = 128 + 42: chunk 1, byte 10, bits 3-2 = code 2
        expected[32 + 8] = 0x65;                   // v200 = 128 + 72: chunk 1, byte 8, bits 5-4 = code 2
        expected[32 + 16] = 0x95;                  // v240 = 128 + 112: chunk 1, byte 16, bits 7-6 = code 2
        expected[32 + 31] = 0x15;                  // v255 = 128 + 127: chunk 1, byte 31, bits 7-6 = code 0
        expected[64] = 0x00;                       // d = 0.5 as fp16 0x3800, little-endian
        expected[65] = 0x38;

        Assert.Equal(expected, TernaryEncoding.Encode(GgmlType.TQ2_0, Trits(), 0.5f));
    }

    [Fact]
    public void EncodeTq1_0_OneBlock_MatchesHandPackedBytes()
    {
        // Each byte is a base-3 number of codes (value + 1), first trit most significant, stored as ceil(q·256/243).
        var expected = new byte[54];
        Array.Fill(expected, (byte)128, 0, 48);  // five zero trits: 11111₃ = 121 → ceil(30976/243) = 128
        Array.Fill(expected, (byte)127, 48, 4);  // qh: four zero trits then the zero pad: 11110₃ = 120 → 127
        expected[0] = 213;                        // v0 → qs[0] trit 0: 21111₃ = 202 → ceil(51712/243) = 213
        expected[1] = 100;                        // v33 = 1 + 32·1 → qs[1] trit 1: 10111₃ = 94 → ceil(24064/243) = 100
        expected[32 + 10] = 213;                  // v170 = 160 + 10 + 16·0 → qs[42] trit 0: 21111₃ → 213
        expected[32 + 8] = 137;                   // v200 = 160 + 8 + 16·2 → qs[40] trit 2: 11211₃ = 130 → ceil(33280/243) = 137
        expected[48] = 212;                       // v240 = 240 + 0 + 4·0 → qh[0] trit 0: 21110₃ = 201 → ceil(51456/243) = 212
        expected[51] = 124;                       // v255 = 240 + 3 + 4·3 → qh[3] trit 3: 11100₃ = 117 → ceil(29952/243) = 124
        expected[52] = 0x00;                      // d = 0.5 as fp16 0x3800, little-endian
        expected[53] = 0x38;

        Assert.Equal(expected, TernaryEncoding.Encode(GgmlType.TQ1_0, Trits(), 0.5f));
    }

    [Fact]
    public void EncodeI2S_TwoBlocks_MatchesHandPackedBytesAndTrailer()
    {
        var expected = new byte[64 + 32];
        Array.Fill(expected, (byte)0x55, 0, 64);  // code 1 (zero) in all four fields
        expected[0] = 0x95;                       // v0: block 0, byte 0, bits 7-6 = code 2
        expected[1] = 0x45;                       // v33 = 32 + 1: byte 1, bits 5-4 = code 0
        expected[32 + 10] = 0x65;                 // v170 = 128 + 32 + 10: block 1, byte 10, bits 5-4 = code 2
        expected[32 + 8] = 0x59;                  // v200 = 128 + 64 + 8: byte 8, bits 3-2 = code 2
        expected[32 + 16] = 0x56;                 // v240 = 128 + 96 + 16: byte 16, bits 1-0 = code 2
        expected[32 + 31] = 0x54;                 // v255 = 128 + 96 + 31: byte 31, bits 1-0 = code 0
        BitConverter.GetBytes(0.5f).CopyTo(expected, 64);  // f32 scale right after the codes, then 28 zero bytes

        Assert.Equal(expected, TernaryEncoding.Encode(GgmlType.I2_S, Trits(), 0.5f));
    }

    [Fact]
    public void DequantizeTq1_0_AllByteValuesFromEncoder_DecodeToTheirTrits()
    {
        // Every 5-trit combination in the first qs byte must survive the ceil(q·256/243) storage trick.
        var trits = new sbyte[256];
        for (var q = 0; q < 243; q++)
        {
            var rest = q;
            for (var n = 4; n >= 0; n--)
            {
                trits[32 * n] = (sbyte)(rest % 3 - 1);
                rest /= 3;
            }

            var decoded = TernaryEncoding.DecodeTrits(GgmlType.TQ1_0, TernaryEncoding.Encode(GgmlType.TQ1_0, trits, 1f), 256, out _);
            Assert.Equal(trits, decoded);
        }
    }
}
