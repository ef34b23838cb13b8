namespace WrinkleFree.Service.Providers;

/// <summary>The provider names tiers use.</summary>
public static class ProviderNames
{
    public const string Local = "local";
    public const string Ssh = "ssh";
    public const string Kubernetes = "kubernetes";
    public const string Cloud = "cloud";
}
