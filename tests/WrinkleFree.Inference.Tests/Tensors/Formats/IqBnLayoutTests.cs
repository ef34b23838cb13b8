using WrinkleFree.Inference.Gguf;
using WrinkleFree.Inference.Tensors.Formats;

namespace WrinkleFree.Inference.Tests.Tensors.Formats;

public sealed class IqBnLayoutTests
{
    [Theory]
    [InlineData(GgmlType.IQ2_BN)]
    [InlineData(GgmlType.IQ1_BN)]
    public void EncodeRow_ThenDecodeRow_SameTritsAndScale(GgmlType type)
    {
        var random = new Random(7);
        var trits = new sbyte[256];
        for (var i = 0; i < trits.Length; i++)
        {
            trits[i] = (sbyte)(random.Next(3) - 1);
        }

        var row = new byte[GgmlTypeInfo.Of(type)!.Value.RowBytes(256)];
        IqBnLayout.EncodeRow(type, trits, 0.375f, row);
        var back = new sbyte[256];

        Assert.Equal(0.375f, IqBnLayout.DecodeRow(type, row, back));
        Assert.Equal(trits, back);
        Assert.Equal(type == GgmlType.IQ2_BN ? 4 + 4 * 16 : 2 + 4 * 13, row.Length);
    }

    [Fact]
    public void DecodeRow_Iq1Bn_EveryBase3ByteReadsBackItsFiveDigits()
    {
        // Each of the 243 five-trit combinations in the first byte of a block: the ceil(q * 256 / 243) storage must
        // read back exactly through the multiply-and-shift.
        var values = new sbyte[64];
        var row = new byte[2 + 13];
        var back = new sbyte[64];
        for (var q = 0; q < 243; q++)
        {
            for (int n = 0, rest = q; n < 5; n++, rest /= 3)
            {
                values[n] = (sbyte)(rest % 3 - 1);
            }

            IqBnLayout.EncodeRow(GgmlType.IQ1_BN, values, 1f, row);
            IqBnLayout.DecodeRow(GgmlType.IQ1_BN, row, back);
            Assert.Equal(values, back);
        }
    }

    [Fact]
    public void DecodeRow_Iq2Bn_ByteHoldsValuesSixteenApartLowBitsFirst()
    {
        var row = new byte[4 + 16];
        BitConverter.GetBytes(2f).CopyTo(row, 0);
        // Codes 2, 0, 1, 2 from the low bits up: values +1, -1, 0, +1 at positions 0, 16, 32, 48.
        row[4] = 0b10_01_00_10;
        var values = new sbyte[64];

        Assert.Equal(2f, IqBnLayout.DecodeRow(GgmlType.IQ2_BN, row, values));
        Assert.Equal([1, -1, 0, 1], new[] { values[0], values[16], values[32], values[48] });
        // The zero bytes elsewhere are code 0: value -1.
        Assert.Equal(61, values.Count(v => v == -1));
    }

    [Fact]
    public void DecodeRow_WrongRowLength_ThrowsNamingTheBytesItNeeds()
    {
        var e = Assert.Throws<ArgumentException>(() => IqBnLayout.DecodeRow(GgmlType.IQ2_BN, new byte[19], new sbyte[64]));

        Assert.Contains("takes 20 bytes, got 19", e.Message, StringComparison.Ordinal);
    }
}
