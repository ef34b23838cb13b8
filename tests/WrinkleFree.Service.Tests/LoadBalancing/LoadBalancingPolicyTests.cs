using WrinkleFree.Service.LoadBalancing;

namespace WrinkleFree.Service.Tests.LoadBalancing;

public sealed class LoadBalancingPolicyTests
{
    [Fact]
    public void LeastRequests_UnequalLoads_PicksTheLeastLoaded()
    {
        var policy = LoadBalancingPolicyFactory.Create(LoadBalancingPolicyNames.LeastRequests, new Random(1));
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(2, policy.Pick([3, 1, 0, 2]));
        }
    }

    [Fact]
    public void LeastRequests_EqualLoads_SpreadsOverAllCandidates()
    {
        var policy = LoadBalancingPolicyFactory.Create(LoadBalancingPolicyNames.LeastLoad, new Random(1));
        var picked = new HashSet<int>();
        for (var i = 0; i < 3; i++)
        {
            picked.Add(policy.Pick([0, 0, 0]));
        }

        Assert.Equal(3, picked.Count);
    }

    [Fact]
    public void RoundRobin_Sequence_CyclesInOrder()
    {
        var policy = LoadBalancingPolicyFactory.Create(LoadBalancingPolicyNames.RoundRobin, new Random(1));
        var picks = Enumerable.Range(0, 7).Select(_ => policy.Pick([5, 0, 9])).ToArray();
        Assert.Equal([0, 1, 2, 0, 1, 2, 0], picks);
    }

    [Fact]
    public void PowerOfTwo_ManyDraws_NeverPicksTheUniqueMostLoaded()
    {
        var policy = LoadBalancingPolicyFactory.Create(LoadBalancingPolicyNames.PowerOfTwo, new Random(42));
        var counts = new int[3];
        for (var i = 0; i < 3000; i++)
        {
            counts[policy.Pick([1, 0, 7])]++;
        }

        Assert.Equal(0, counts[2]);
        Assert.True(counts[1] > counts[0], $"the idle replica should win more often: {string.Join(",", counts)}");
    }

    [Fact]
    public void PowerOfTwo_SingleCandidate_PicksIt() =>
        Assert.Equal(0, LoadBalancingPolicyFactory.Create(LoadBalancingPolicyNames.PowerOfTwo, new Random(1)).Pick([4]));

    [Fact]
    public void Create_UnknownName_ListsTheChoices()
    {
        var ex = Assert.Throws<ArgumentException>(() => LoadBalancingPolicyFactory.Create("fastest", new Random(1)));
        Assert.Contains("least_requests", ex.Message, StringComparison.Ordinal);
        Assert.Contains("fastest", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(nameof(ServiceLoadBalancerOptions.Policy))]
    [InlineData(nameof(ServiceLoadBalancerOptions.MaxAttempts))]
    [InlineData(nameof(ServiceLoadBalancerOptions.MaxRequestBodyBytes))]
    [InlineData(nameof(ServiceLoadBalancerOptions.RetryAfter))]
    [InlineData(nameof(ServiceLoadBalancerOptions.ListenAddress))]
    public void OptionsValidate_BadValue_NamesTheSetting(string setting)
    {
        var options = setting switch
        {
            nameof(ServiceLoadBalancerOptions.Policy) => new ServiceLoadBalancerOptions { Policy = "random" },
            nameof(ServiceLoadBalancerOptions.MaxAttempts) => new ServiceLoadBalancerOptions { MaxAttempts = 0 },
            nameof(ServiceLoadBalancerOptions.MaxRequestBodyBytes) => new ServiceLoadBalancerOptions { MaxRequestBodyBytes = 0 },
            nameof(ServiceLoadBalancerOptions.RetryAfter) => new ServiceLoadBalancerOptions { RetryAfter = TimeSpan.FromMilliseconds(10) },
            _ => new ServiceLoadBalancerOptions { ListenAddress = "not an address" },
        };

        var ex = Assert.Throws<ArgumentException>(options.Validate);
        Assert.Equal(setting, ex.ParamName);
    }

    [Fact]
    public void OptionsValidate_Defaults_Pass() => new ServiceLoadBalancerOptions().Validate();
}
