using System.Text.Json;
using WrinkleFree.Service.Controller;
using WrinkleFree.Service.Daemon;
using WrinkleFree.Testing;

namespace WrinkleFree.Service.Tests.Tls;

/// <summary>The file_sd targets say <c>__scheme__: https</c> for what serves TLS, and nothing for plain HTTP.</summary>
public sealed class PrometheusTargetsTlsTests
{
    [Fact]
    public void Write_HttpsReplicaAndEndpoint_GetTheHttpsSchemeLabel()
    {
        using var dir = new TempDirectory("wf-prometheus-tls-tests");
        var at = DateTimeOffset.UnixEpoch;
        var snapshot = new ServiceSnapshot("svc", 1, "READY", new Uri("https://127.0.0.1:8443/"), 2, 0,
        [
            new ReplicaSnapshot(1, "base", ReplicaStatus.Ready, "https://127.0.0.1:9001", 0, 10, 1, at),
            new ReplicaSnapshot(2, "base", ReplicaStatus.Ready, "http://127.0.0.1:9002", 0, 11, 1, at),
        ]);

        PrometheusTargets.Write(dir.Path, [snapshot]);

        using var replicas = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir.Path, "replicas.json")));
        var byTarget = replicas.RootElement.EnumerateArray().ToDictionary(g => g.GetProperty("targets")[0].GetString()!, g => g.GetProperty("labels"));
        Assert.Equal("https", byTarget["127.0.0.1:9001"].GetProperty("__scheme__").GetString());
        Assert.False(byTarget["127.0.0.1:9002"].TryGetProperty("__scheme__", out _));
        using var services = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir.Path, "services.json")));
        Assert.Equal("https", services.RootElement[0].GetProperty("labels").GetProperty("__scheme__").GetString());
    }
}
