using WrinkleFree.Service.Firewall;
using WrinkleFree.Service.Spec;

namespace WrinkleFree.Service.Tests.Firewall;

/// <summary>Specs and plans the firewall tests share.</summary>
internal static class FirewallTestSpecs
{
    /// <summary>A spec whose endpoint listens on every interface at <paramref name="endpointPort"/>, replicas on <paramref name="replicaPort"/>.</summary>
    public static string Open(int endpointPort, int? replicaPort) => $"""
        name: edge-svc
        service:
          readiness_probe: /health
          replicas: 1
        {(replicaPort is { } p ? $"  ports: {p}\n" : "")}  load_balancer:
            host: 0.0.0.0
            port: {endpointPort}
        """;

    public static FirewallPlan Plan(string yaml, string[] allow, string[] balancers, int? endpointPort = null)
    {
        var service = ServicePlan.Parse(yaml, "test.yaml", new ServicePlanContext { Force = true, DefaultModelPath = "/models/default.gguf" });
        return FirewallPlan.For(service, EdgeRanges.Parse(allow, "--allow"), EdgeRanges.Parse(balancers, "--balancer"), endpointPort);
    }
}
