using WrinkleFree.Inference.Sampling;

namespace WrinkleFree.Inference.Tests.Sampling;

public sealed class SamplingOptionsTests
{
    [Fact]
    public void Validate_Defaults_Passes()
    {
        new SamplingOptions().Validate();
        new SamplingOptions { Temperature = 0, TopK = 40, TopP = 0.9f, MinP = 0.05f, PenaltyWindow = -1, Logprobs = true, TopLogprobs = 20 }.Validate();
    }

    public static TheoryData<SamplingOptions, string> BadOptions() => new()
    {
        { new SamplingOptions { Temperature = -0.1f }, nameof(SamplingOptions.Temperature) },
        { new SamplingOptions { Temperature = float.NaN }, nameof(SamplingOptions.Temperature) },
        { new SamplingOptions { Temperature = float.PositiveInfinity }, nameof(SamplingOptions.Temperature) },
        { new SamplingOptions { TopK = -1 }, nameof(SamplingOptions.TopK) },
        { new SamplingOptions { TopP = 0 }, nameof(SamplingOptions.TopP) },
        { new SamplingOptions { TopP = 1.5f }, nameof(SamplingOptions.TopP) },
        { new SamplingOptions { MinP = -0.5f }, nameof(SamplingOptions.MinP) },
        { new SamplingOptions { MinP = 2 }, nameof(SamplingOptions.MinP) },
        { new SamplingOptions { RepetitionPenalty = 0 }, nameof(SamplingOptions.RepetitionPenalty) },
        { new SamplingOptions { PresencePenalty = 2.5f }, nameof(SamplingOptions.PresencePenalty) },
        { new SamplingOptions { FrequencyPenalty = -3 }, nameof(SamplingOptions.FrequencyPenalty) },
        { new SamplingOptions { PenaltyWindow = -2 }, nameof(SamplingOptions.PenaltyWindow) },
        { new SamplingOptions { Logprobs = true, TopLogprobs = 21 }, nameof(SamplingOptions.TopLogprobs) },
        { new SamplingOptions { TopLogprobs = 3 }, nameof(SamplingOptions.TopLogprobs) },
    };

    [Theory]
    [MemberData(nameof(BadOptions))]
    public void Validate_OutOfRange_ThrowsNamingTheField(SamplingOptions options, string field)
    {
        var ex = Assert.Throws<ArgumentException>(options.Validate);
        Assert.Equal(field, ex.ParamName);
        Assert.StartsWith(field + " is ", ex.Message);
    }

    [Fact]
    public void SamplerCtor_InvalidOptions_Throws()
    {
        var ex = Assert.Throws<ArgumentException>(() => new Sampler(new SamplingOptions { TopP = 0 }, 10));
        Assert.Equal("TopP", ex.ParamName);
    }
}
