using System.Runtime.Intrinsics;
using WrinkleFree.Inference.Tensors;
using WrinkleFree.Inference.Tensors.Kernels;
using WrinkleFree.Inference.Tensors.Kernels.Avx512;

namespace WrinkleFree.Inference.Tests.Tensors;

public sealed class TernaryGemmTests
{
    [Fact]
    public void Reduce16_RandomVectors_LaneIHoldsTheSumOfVectorI()
    {
        if (!KernelFamily.IsSupported(KernelIsa.Avx512))
        {
            return;
        }

        var random = new Random(3);
        var v = new Vector512<int>[16];
        var expected = new int[16];
        for (var i = 0; i < 16; i++)
        {
            var lanes = new int[16];
            for (var j = 0; j < 16; j++)
            {
                lanes[j] = random.Next(-100_000, 100_000);
                expected[i] += lanes[j];
            }

            v[i] = Vector512.Create(lanes);
        }

        var sums = TernaryGemmAvx512.Reduce16(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12], v[13], v[14], v[15]);
        var actual = new int[16];
        for (var i = 0; i < 16; i++)
        {
            actual[i] = sums.GetElement(i);
        }

        Assert.Equal(expected, actual);
    }
}
