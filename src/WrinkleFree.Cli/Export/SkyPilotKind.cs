namespace WrinkleFree.Cli.Export;

/// <summary>Which SkyPilot YAML a spec becomes.</summary>
public enum SkyPilotKind
{
    /// <summary>A service spec: a SkyServe service YAML for <c>sky serve up</c>.</summary>
    Service,

    /// <summary>A managed-job task (src/WrinkleFree.Jobs): a task YAML for <c>sky jobs launch</c>.</summary>
    Job,
}
