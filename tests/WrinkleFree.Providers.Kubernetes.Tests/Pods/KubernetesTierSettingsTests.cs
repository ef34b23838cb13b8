using WrinkleFree.Service.Spec;

namespace WrinkleFree.Providers.Kubernetes.Tests.Pods;

public sealed class KubernetesTierSettingsTests
{
    [Fact]
    public void Parse_EverySetting_ReadIntoTheirShapes()
    {
        var settings = KubernetesTierSettings.Parse(new Dictionary<string, object?>
        {
            ["context"] = "prod",
            ["namespace"] = "inference",
            ["image"] = "ghcr.io/wrinklefree/wf:1.2",
            ["node_selector"] = new Dictionary<string, object?> { ["pool"] = "cpu", ["spot"] = true },
            ["tolerations"] = new List<object?> { new Dictionary<string, object?> { ["key"] = "dedicated", ["value"] = "wf", ["effect"] = "NoSchedule" } },
            ["service_account"] = "wf-replica",
            ["image_pull_secrets"] = new List<object?> { "ghcr" },
            ["model"] = new Dictionary<string, object?> { ["url"] = "s3://models/tiny.gguf", ["sha256"] = new string('A', 64) },
        }, "tiers[0].settings");

        Assert.Equal(("prod", "inference", "wf-replica"), (settings.Context, settings.Namespace, settings.ServiceAccount));
        Assert.Equal("true", settings.NodeSelector["spot"]);
        Assert.Equal(("dedicated", "Equal", "NoSchedule"), (settings.Tolerations[0].Key, settings.Tolerations[0].OperatorProperty, settings.Tolerations[0].Effect));
        Assert.Equal(new string('a', 64), settings.Model!.Sha256);
    }

    [Theory]
    [InlineData("namespace", null, "tiers[0].settings.namespace", "needs settings: {namespace: NAME}")]
    [InlineData("model", "s3://models/tiny.gguf", "tiers[0].settings.model", "an s3 model needs its sha256")]
    [InlineData("model", "pvc://models", "tiers[0].settings.model", "names no file in the claim")]
    [InlineData("tolerations", "x", "tiers[0].settings.tolerations", "must be a list")]
    public void Parse_BadValue_NamesTheKey(string key, object? value, string keyPath, string detail)
    {
        var settings = new Dictionary<string, object?> { ["namespace"] = "wf", ["image"] = "wf:1", [key] = value };

        var e = Assert.Throws<ServiceSpecException>(() => KubernetesTierSettings.Parse(settings, "tiers[0].settings"));

        Assert.Equal(keyPath, e.KeyPath);
        Assert.Contains(detail, e.Detail, StringComparison.Ordinal);
    }
}
