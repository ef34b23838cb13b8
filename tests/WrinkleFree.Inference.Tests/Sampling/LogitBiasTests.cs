using WrinkleFree.Inference.Sampling;

namespace WrinkleFree.Inference.Tests.Sampling;

public sealed class LogitBiasTests
{
    [Fact]
    public void Sample_BiasLiftsAToken_GreedyPicksItAndLogprobsSeeTheBiasedDistribution()
    {
        var sampler = new Sampler(new SamplingOptions { Temperature = 0, Logprobs = true, LogitBias = new Dictionary<int, float> { [3] = 5, [0] = -100 } }, 8);
        float[] logits = [4, 1, 1, 1, 1, 1, 1, 1];

        var id = sampler.Sample(logits, []);

        Assert.Equal(3, id);
        Assert.Equal(6, logits[3]);
        Assert.Equal(-96, logits[0]);
        // log-softmax of 6 among one 6, six 1s and one -96.
        Assert.Equal(6 - Math.Log(Math.Exp(6) + 6 * Math.Exp(1) + Math.Exp(-96)), sampler.LastLogprob, 4);
    }

    [Fact]
    public void Sampler_BiasOnATokenOutsideTheVocabulary_ThrowsNamingLogitBias()
    {
        var e = Assert.Throws<ArgumentException>(() => new Sampler(new SamplingOptions { LogitBias = new Dictionary<int, float> { [8] = 1 } }, 8));

        Assert.Equal(nameof(SamplingOptions.LogitBias), e.ParamName);
        Assert.Contains("outside the vocabulary (0..7)", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(-1, 1f)]
    [InlineData(2, 100.5f)]
    [InlineData(2, float.NaN)]
    public void Validate_BadIdOrBias_ThrowsNamingLogitBias(int id, float bias)
    {
        var options = new SamplingOptions { LogitBias = new Dictionary<int, float> { [id] = bias } };

        Assert.Equal(nameof(SamplingOptions.LogitBias), Assert.Throws<ArgumentException>(options.Validate).ParamName);
    }
}
