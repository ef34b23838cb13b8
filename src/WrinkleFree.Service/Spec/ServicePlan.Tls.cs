using WrinkleFree.Service.Tls;

namespace WrinkleFree.Service.Spec;

public sealed partial record ServicePlan
{
    /// <summary>
    /// <c>service.tls</c> with its files made absolute (against the spec's folder, as <c>workdir:</c>) and checked to serve
    /// HTTPS now (<see cref="EndpointCertificateCheck"/>): in <c>wf validate</c>, <c>wf up</c> and the daemon alike.
    /// </summary>
    private static ServiceSpec WithCheckedTls(ServiceSpec spec, ServicePlanContext context, Checks checks)
    {
        if (spec.Service.ReplicaTls && spec.Run is { } run && InferenceServerScript.Arguments(run) is null)
        {
            checks.Warn("service.replica_tls", "run: is a shell script: it must serve HTTPS on HOST:PORT with WF_TLS_CERT and WF_TLS_KEY and accept only "
                + "client certificates signed by WF_TLS_CLIENT_CA (`wf replica` does this itself), or its readiness probes never pass");
        }

        if (spec.Service.Tls is not { } tls)
            return spec;
        tls = new TlsSpec
        {
            Keyfile = Absolute(tls.Keyfile, "service.tls.keyfile", context.SpecDirectory),
            Certfile = Absolute(tls.Certfile, "service.tls.certfile", context.SpecDirectory),
        };
        foreach (var (keyPath, warning) in EndpointCertificateCheck.Check(tls, context.Time.GetUtcNow()))
            checks.Warn(keyPath, warning);
        return spec with { Service = spec.Service with { Tls = tls } };
    }

    private static string Absolute(string path, string keyPath, string? specDirectory)
    {
        if (Path.IsPathRooted(path))
            return path;
        return specDirectory is null
            ? throw new ServiceSpecException(keyPath, $"'{path}' must be an absolute path here (`wf up SPEC` resolves a relative one against the spec's folder)")
            : Path.GetFullPath(Path.Combine(specDirectory, path));
    }
}
