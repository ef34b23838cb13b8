using WrinkleFree.Providers.Kubernetes.Tests.Support;
using WrinkleFree.Service.Spec;

namespace WrinkleFree.Providers.Kubernetes.Tests.Provider;

/// <summary>
/// The in-cluster layout's API side (the daemon's DNS is the cluster's, which the double cannot give): pods named under
/// a headless Service, endpoints on those names, and the verbs that layout needs instead of port-forward.
/// </summary>
public sealed class DirectReachTests
{
    [Fact]
    public async Task LaunchAsync_ReachedDirectly_PodHasADnsNameUnderAHeadlessServiceAndNoForward()
    {
        await using var cluster = await TestCluster.StartAsync();
        var provider = cluster.NewProvider(direct: true);

        var handle = await provider.LaunchAsync(TestCluster.Request(1), Poll.Token());
        await provider.LaunchAsync(TestCluster.Request(2), Poll.Token());

        Assert.Equal("http://wf-svc-1.wf-svc.wf.svc:8080", handle.EndpointUrl);
        var pod = cluster.Api.Pods(TestCluster.Namespace).Single(p => p.Metadata.Name == "wf-svc-1");
        Assert.Equal(("wf-svc-1", "wf-svc"), (pod.Spec.Hostname, pod.Spec.Subdomain));
        Assert.Single(cluster.Api.Requests, r => r == "POST /api/v1/namespaces/wf/services");
        Assert.DoesNotContain(cluster.Api.Requests, r => r.Contains("/portforward", StringComparison.Ordinal));
    }

    [Fact]
    public async Task CheckTierAsync_ReachedDirectly_AsksForServicesNotPortForward()
    {
        await using var cluster = await TestCluster.StartAsync();
        cluster.Api.Forbid("create", "pods/portforward");
        cluster.Api.Forbid("create", "services");
        var tier = new TierSpec { Name = "k8s", Provider = TierProvider.Kubernetes, Capacity = 2, Settings = TestCluster.Settings() };

        var e = await Assert.ThrowsAsync<ServiceSpecException>(() => cluster.NewProvider(direct: true).CheckTierAsync(tier, new ResourcesSpec(), "tiers[0].settings", Poll.Token()));

        Assert.Contains("this user may not: create services", e.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain("portforward", e.Detail, StringComparison.Ordinal);
    }
}
