using WrinkleFree.Inference.Models;

namespace WrinkleFree.Inference.Tests.Models;

public sealed unsafe class HalfMathTests
{
    [Fact]
    public void ToSingle_EveryHalf_MatchesTheCast()
    {
        var halves = new Half[65536 + 37];
        for (var i = 0; i < halves.Length; i++)
        {
            halves[i] = BitConverter.UInt16BitsToHalf((ushort)i);
        }

        // Odd starts and lengths so the 32-, 16-wide and scalar loops all run and meet at every alignment.
        foreach (var (start, count) in new[] { (0, 65536), (1, 65536), (5, 31), (3, 17), (7, 1), (0, 0) })
        {
            var floats = new float[count + 1];
            floats[count] = 123f;
            fixed (Half* h = halves)
            fixed (float* f = floats)
            {
                HalfMath.ToSingle(h + start, f, count);
            }

            for (var i = 0; i < count; i++)
            {
                var expected = (float)halves[start + i];
                Assert.True(
                    float.IsNaN(expected) ? float.IsNaN(floats[i]) : BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(floats[i]),
                    $"half 0x{BitConverter.HalfToUInt16Bits(halves[start + i]):X4}: {floats[i]} instead of {expected}");
            }

            Assert.Equal(123f, floats[count]);
        }
    }

    [Fact]
    public void ToHalf_RoundsToNearestEvenAsTheCast()
    {
        var random = new Random(11);
        var values = new List<float>
        {
            0f, -0f, 1f, -1f, 65504f, 65519.996f, 65520f, -65520f, 65536f, 1e10f, float.MaxValue, float.Epsilon, -float.Epsilon,
            float.PositiveInfinity, float.NegativeInfinity, float.NaN, 6.1035156e-05f, 6.1035152e-05f, 5.9604645e-08f,
            2.9802322e-08f, 2.9802326e-08f, 8.940697e-08f, 1.0004883f, 1.0014648f, 1.0009766f, 2049f, 2051f, 4097f,
        };

        // Every exponent a half can reach and then some, with random mantissas (ties included by the low-bit patterns).
        for (var i = 0; i < 200_000; i++)
        {
            var exponent = random.Next(127 - 30, 127 + 18);
            var mantissa = (uint)random.Next(1 << 23);
            if (i % 4 == 0)
            {
                mantissa = (mantissa & ~0x1FFFu) | 0x1000u;
            }

            var bits = ((uint)random.Next(2) << 31) | ((uint)exponent << 23) | mantissa;
            values.Add(BitConverter.UInt32BitsToSingle(bits));
        }

        var source = values.ToArray();
        var halves = new Half[source.Length];
        HalfMath.ToHalf(source, halves);
        for (var i = 0; i < source.Length; i++)
        {
            var expected = (Half)source[i];
            Assert.True(
                Half.IsNaN(expected) ? Half.IsNaN(halves[i]) : BitConverter.HalfToUInt16Bits(expected) == BitConverter.HalfToUInt16Bits(halves[i]),
                $"{source[i]:R} (0x{BitConverter.SingleToUInt32Bits(source[i]):X8}): 0x{BitConverter.HalfToUInt16Bits(halves[i]):X4} instead of 0x{BitConverter.HalfToUInt16Bits(expected):X4}");
        }
    }

    [Fact]
    public void ToHalf_ShortDestination_Throws()
    {
        Assert.Throws<ArgumentException>(() => HalfMath.ToHalf(new float[20], new Half[19]));
    }
}
