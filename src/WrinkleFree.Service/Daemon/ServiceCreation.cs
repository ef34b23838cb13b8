using WrinkleFree.Service.Spec;

namespace WrinkleFree.Service.Daemon;

/// <summary>The checks a new service passes before the daemon stores it: the spec's own, then its plan's (as `wf validate`).</summary>
internal static class ServiceCreation
{
    /// <summary>The spec of <paramref name="request"/>; throws <see cref="ServiceSpecException"/> naming the key, line and column.</summary>
    public static ServiceSpec Check(CreateServiceRequest request, DaemonOptions options, IEnumerable<string> providers) =>
        ServicePlan.Parse(request.SpecYaml, request.SourceName, new ServicePlanContext
        {
            Force = request.Force,
            DefaultModelPath = options.DefaultModelPath,
            Providers = [.. providers],
        }).Spec;
}
