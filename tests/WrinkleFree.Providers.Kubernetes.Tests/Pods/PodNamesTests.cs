using WrinkleFree.Providers.Kubernetes.Pods;

namespace WrinkleFree.Providers.Kubernetes.Tests.Pods;

public sealed class PodNamesTests
{
    [Theory]
    [InlineData("svc", 3, "wf-svc-3")]
    [InlineData("chat-prod", 12, "wf-chat-prod-12")]
    public void Pod_DnsSafeService_NameIsTheServiceAndId(string service, int id, string expected) => Assert.Equal(expected, PodNames.Pod(service, id));

    [Fact]
    public void Pod_NamesThatMustChange_StayDistinctDnsLabels()
    {
        var a = PodNames.Pod("Chat_Prod", 1);
        var b = PodNames.Pod("chat.prod", 1);
        var longName = PodNames.Pod(new string('x', 63), 123456);

        Assert.NotEqual(a, b);
        Assert.All(new[] { a, b, longName }, n => Assert.Matches("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", n));
        Assert.Equal(a, PodNames.Pod("Chat_Prod", 1));
        Assert.EndsWith("-123456", longName, StringComparison.Ordinal);
    }

    [Fact]
    public void Keys_AreTheIssuesSettings_InSnakeCase() => Assert.All(KubernetesSettings.Keys, k => Assert.Matches("^[a-z_]+$", k));
}
