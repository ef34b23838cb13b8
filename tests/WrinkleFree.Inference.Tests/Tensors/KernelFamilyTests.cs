using WrinkleFree.Inference.Gguf;
using WrinkleFree.Inference.Tensors;
using WrinkleFree.Inference.Tensors.Kernels;
using WrinkleFree.Inference.Threading;

namespace WrinkleFree.Inference.Tests.Tensors;

/// <summary>The kernel family is a value each matrix gets when created: refused when unsupported, independent per instance.</summary>
public sealed class KernelFamilyTests
{
    [Fact]
    public void Get_UnsupportedFamily_IsRefusedNamingItAndTheSupportedOnes()
    {
        // A machine with AVX-512 and AVX-VNNI supports every named family; an undefined value is never supported.
        var unsupported = Enum.GetValues<KernelIsa>().Where(i => !KernelFamily.IsSupported(i)).Cast<KernelIsa?>().FirstOrDefault() ?? (KernelIsa)42;
        var e = Assert.Throws<NotSupportedException>(() => KernelFamily.Get(unsupported));
        Assert.Contains(unsupported.ToString(), e.Message, StringComparison.Ordinal);
        Assert.All(KernelFamily.Supported, f => Assert.Contains(f.ToString(), e.Message, StringComparison.Ordinal));
    }

    [Fact]
    public void Parse_UnknownOrUnsupportedName_IsRefusedNamingIt()
    {
        var e = Assert.Throws<NotSupportedException>(() => KernelFamily.Parse("avx1024"));
        Assert.Contains("'avx1024'", e.Message, StringComparison.Ordinal);
        Assert.All(KernelFamily.Supported, f => Assert.Contains(f.ToString(), e.Message, StringComparison.Ordinal));

        foreach (var isa in Enum.GetValues<KernelIsa>().Where(i => !KernelFamily.IsSupported(i)))
        {
            var refused = Assert.Throws<NotSupportedException>(() => KernelFamily.Parse(isa.ToString().ToLowerInvariant()));
            Assert.Contains(isa.ToString(), refused.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Parse_SupportedNameInAnyCase_GivesTheOneInstanceOfThatFamily()
    {
        foreach (var family in KernelFamily.Supported)
        {
            Assert.Same(family, KernelFamily.Parse(family.Isa.ToString().ToUpperInvariant()));
            Assert.Same(family, KernelFamily.Get(family.Isa));
        }

        Assert.Same(KernelFamily.Scalar, KernelFamily.Supported[0]);
        Assert.Contains(KernelFamily.Best, KernelFamily.Supported);
    }

    [Fact]
    public void DefaultSetting_UnsetMeansBest_ANameIsHonoured_AnUnknownOneIsRefusedNamingTheVariable()
    {
        Assert.Same(KernelFamily.Best, KernelFamily.FromSetting(null));
        Assert.Same(KernelFamily.Best, KernelFamily.FromSetting(" "));
        Assert.Same(KernelFamily.Scalar, KernelFamily.FromSetting(" scalar "));
        var e = Assert.Throws<NotSupportedException>(() => KernelFamily.FromSetting("sse9"));
        Assert.Contains($"{KernelFamily.EnvironmentVariable}=sse9", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(GgmlType.I2_S)]
    [InlineData(GgmlType.TQ2_0)]
    [InlineData(GgmlType.Q8_0)]
    [InlineData(GgmlType.F16)]
    [InlineData(GgmlType.Q6_K)]
    public void Matrices_OnTheSameBytesWithEveryFamily_MultiplyConcurrently_AsEachDoesAlone(GgmlType type)
    {
        const int rows = 29, columns = 768, batch = 3;
        var w = TestWeights.Random(type, rows, columns, seed: 21);
        var families = KernelFamily.Supported;
        var matrices = families.Select(f => WeightMatrix.Create(type, w.Address, rows, columns, "w", f)).ToArray();
        Assert.Equal(families, matrices.Select(m => m.Kernels));

        var alone = new float[matrices.Length][];
        using (var pool = new WorkerPool(2))
        {
            for (var i = 0; i < matrices.Length; i++)
            {
                alone[i] = Multiply(matrices[i], pool);
            }
        }

        // Every matrix on its own thread at once, repeatedly: a family chosen per instance cannot leak into another.
        using var start = new Barrier(matrices.Length);
        var results = new float[matrices.Length][];
        var threads = matrices.Select((m, i) => new Thread(() =>
        {
            // Each thread its own activations and pool: only the weight bytes are shared.
            using var pool = new WorkerPool(2);
            start.SignalAndWait();
            for (var round = 0; round < 20; round++)
            {
                results[i] = Multiply(m, pool);
                if (!results[i].AsSpan().SequenceEqual(alone[i]))
                {
                    return;
                }
            }
        })).ToArray();
        foreach (var t in threads)
        {
            t.Start();
        }

        foreach (var t in threads)
        {
            t.Join();
        }

        for (var i = 0; i < matrices.Length; i++)
        {
            Assert.True(results[i].AsSpan().SequenceEqual(alone[i]), $"{families[i]} changed while the other families ran");
            for (var j = 0; j < alone[i].Length; j++)
            {
                var tolerance = 2e-5f * MathF.Max(1f, MathF.Abs(alone[0][j])) * MathF.Sqrt(columns);
                Assert.True(MathF.Abs(alone[0][j] - alone[i][j]) <= tolerance, $"{families[i]} [{j}]: {alone[i][j]} vs scalar {alone[0][j]}");
            }
        }

        static float[] Multiply(WeightMatrix m, WorkerPool pool)
        {
            var x = WeightMatrixTests.RandomBatch(batch, columns, seed: 4);
            var y = new float[batch * rows];
            m.Multiply(x, y, pool);
            return y;
        }
    }
}
