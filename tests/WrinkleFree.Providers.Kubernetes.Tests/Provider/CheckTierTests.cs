using WrinkleFree.Providers.Kubernetes.Tests.Support;
using WrinkleFree.Service.Spec;

namespace WrinkleFree.Providers.Kubernetes.Tests.Provider;

/// <summary>What `wf up` checks of a kubernetes tier before it starts anything, and how each failure is named.</summary>
public sealed class CheckTierTests
{
    private static TierSpec Tier(Dictionary<string, object?> settings, int capacity = 2) =>
        new() { Name = "k8s", Provider = TierProvider.Kubernetes, Capacity = capacity, Settings = settings };

    [Fact]
    public async Task CheckTierAsync_Reachable_WrittenCapacityAndEveryVerbAsked()
    {
        await using var cluster = await TestCluster.StartAsync();
        var provider = cluster.NewProvider();
        var tier = Tier(TestCluster.Settings());

        Assert.Null(provider.KnownCapacity(tier, new ResourcesSpec()));
        var room = await provider.CheckTierAsync(tier, new ResourcesSpec(), "tiers[1].settings", Poll.Token());

        Assert.Equal(2, room.Replicas);
        Assert.Contains("namespace wf (context double)", room.Note, StringComparison.Ordinal);
        Assert.Equal(room, provider.KnownCapacity(tier, new ResourcesSpec()));
        Assert.Equal(8, cluster.Api.Requests.Count(r => r == "POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews"));
    }

    [Fact]
    public async Task CheckTierAsync_UnknownSetting_NamesTheKeyAndListsTheKnownOnes()
    {
        await using var cluster = await TestCluster.StartAsync();
        var settings = TestCluster.Settings();
        settings["nodeSelector"] = "x";

        var e = await Assert.ThrowsAsync<ServiceSpecException>(() => cluster.NewProvider().CheckTierAsync(Tier(settings), new ResourcesSpec(), "tiers[1].settings", Poll.Token()));

        Assert.Equal("tiers[1].settings.nodeSelector", e.KeyPath);
        Assert.Contains("known: context, namespace, image, node_selector, tolerations, service_account, image_pull_secrets, model", e.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CheckTierAsync_UnknownContext_NamesItAndTheContextsThereAre()
    {
        await using var cluster = await TestCluster.StartAsync();

        var e = await Assert.ThrowsAsync<ServiceSpecException>(() =>
            cluster.NewProvider().CheckTierAsync(Tier(TestCluster.Settings(context: "prod-eu")), new ResourcesSpec(), "tiers[1].settings", Poll.Token()));

        Assert.Equal("tiers[1].settings.context", e.KeyPath);
        Assert.Contains("has no context 'prod-eu'; it has: double", e.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CheckTierAsync_MissingOrBadKubeconfig_NamesTheFile()
    {
        await using var cluster = await TestCluster.StartAsync();
        var missing = Path.Combine(cluster.Home, "nope", "config");
        var bad = Path.Combine(cluster.Home, "bad-config");
        await File.WriteAllTextAsync(bad, "clusters: [this is: not: yaml");

        var none = await Assert.ThrowsAsync<ServiceSpecException>(() =>
            cluster.NewProvider(missing).CheckTierAsync(Tier(TestCluster.Settings()), new ResourcesSpec(), "tiers[0].settings", Poll.Token()));
        var unreadable = await Assert.ThrowsAsync<ServiceSpecException>(() =>
            cluster.NewProvider(bad).CheckTierAsync(Tier(TestCluster.Settings()), new ResourcesSpec(), "tiers[0].settings", Poll.Token()));

        Assert.Equal("tiers[0].settings.context", none.KeyPath);
        Assert.Contains($"no kubeconfig at {missing}", none.Detail, StringComparison.Ordinal);
        Assert.Contains($"kubeconfig {bad} cannot be read", unreadable.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CheckTierAsync_MissingNamespace_NamesItAndHowToCreateIt()
    {
        await using var cluster = await TestCluster.StartAsync();

        var e = await Assert.ThrowsAsync<ServiceSpecException>(() =>
            cluster.NewProvider().CheckTierAsync(Tier(TestCluster.Settings(ns: "inference")), new ResourcesSpec(), "tiers[1].settings", Poll.Token()));

        Assert.Equal("tiers[1].settings.namespace", e.KeyPath);
        Assert.Contains("namespace inference does not exist (context double, API server http://127.0.0.1:", e.Detail, StringComparison.Ordinal);
        Assert.Contains("kubectl create namespace inference", e.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CheckTierAsync_RbacRefusesVerbs_NamesEachVerbAndObjectAndHowToGrantThem()
    {
        await using var cluster = await TestCluster.StartAsync();
        cluster.Api.Forbid("create", "pods/portforward");
        cluster.Api.Forbid("get", "pods/log");

        var e = await Assert.ThrowsAsync<ServiceSpecException>(() =>
            cluster.NewProvider().CheckTierAsync(Tier(TestCluster.Settings()), new ResourcesSpec(), "tiers[1].settings", Poll.Token()));

        Assert.Equal("tiers[1].settings.namespace", e.KeyPath);
        Assert.Contains("in namespace wf (context double", e.Detail, StringComparison.Ordinal);
        Assert.Contains("this user may not: get pods/log; create pods/portforward", e.Detail, StringComparison.Ordinal);
        Assert.Contains("kubectl create role wf-replicas -n wf", e.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CheckTierAsync_AccessReviewsForbidden_NamesThatVerb()
    {
        await using var cluster = await TestCluster.StartAsync();
        cluster.Api.Forbid("create", "selfsubjectaccessreviews");

        var e = await Assert.ThrowsAsync<ServiceSpecException>(() =>
            cluster.NewProvider().CheckTierAsync(Tier(TestCluster.Settings()), new ResourcesSpec(), "tiers[1].settings", Poll.Token()));

        Assert.Contains("create selfsubjectaccessreviews.authorization.k8s.io", e.Detail, StringComparison.Ordinal);
        Assert.Contains("403 Forbidden", e.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LaunchAsync_CreateForbidden_NamesTheVerbTheObjectAndTheNamespace()
    {
        await using var cluster = await TestCluster.StartAsync();
        cluster.Api.Forbid("create", "pods");

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => cluster.NewProvider().LaunchAsync(TestCluster.Request(1), Poll.Token()));

        Assert.Contains("kubernetes: create pods in namespace wf (context double) failed: 403 Forbidden", e.Message, StringComparison.Ordinal);
        Assert.Contains("cannot create resource \"pods\"", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LaunchAsync_SecretForbidden_NamesItAndLeavesNoPodWaitingForIt()
    {
        await using var cluster = await TestCluster.StartAsync();
        cluster.Api.Forbid("create", "secrets");
        using var folder = new Testing.TempDirectory("wf-k8s-key");
        var key = Path.Combine(folder.Path, "api.key");
        await File.WriteAllTextAsync(key, "sk-test");
        var request = TestCluster.Request(1) with { Envs = new Dictionary<string, string> { ["WF_API_KEY_FILE"] = key } };

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => cluster.NewProvider().LaunchAsync(request, Poll.Token()));

        Assert.Contains("kubernetes: create secrets in namespace wf (context double) failed: 403 Forbidden", e.Message, StringComparison.Ordinal);
        await Poll.UntilAsync(() => cluster.Api.Pods(TestCluster.Namespace).Count == 0, "the pod deleted");
    }
}
