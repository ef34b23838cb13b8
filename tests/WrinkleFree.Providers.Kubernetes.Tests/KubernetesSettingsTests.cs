namespace WrinkleFree.Providers.Kubernetes.Tests;

public sealed class KubernetesSettingsTests
{
    [Fact]
    public void Keys_AreTheIssuesSettings_InSnakeCase()
    {
        Assert.All(KubernetesSettings.Keys, k => Assert.Matches("^[a-z_]+$", k));
        Assert.Contains("namespace", KubernetesSettings.Keys);
    }
}
