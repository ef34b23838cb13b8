using System.Text;
using WrinkleFree.Jobs;
using WrinkleFree.Service.Spec;

namespace WrinkleFree.Fuzz.Targets;

/// <summary>
/// The YAML that <c>wf up</c> and <c>wf jobs launch</c> read: the bytes (as UTF-8) through the service spec parser and the
/// job task parser. Clean rejections: <see cref="ServiceSpecException"/> and <see cref="TaskSpecException"/>.
/// </summary>
internal sealed class SpecTarget : FuzzTarget
{
    public override string Name => "spec";

    public override IReadOnlyList<byte[]> Dictionary { get; } = Tokens(
        "name: ", "service:", "resources:", "envs:", "setup: ", "run: ", "tiers:", "replica_policy:", "readiness_probe:",
        "min_replicas: ", "max_replicas: ", "replicas: ", "target_qps_per_replica: ", "load_balancing_policy: ", "tls:",
        "keyfile: ", "certfile: ", "accelerators: ", "cpus: ", "memory: ", "ports: ", "infra: ", "use_spot: ", "path: ",
        "initial_delay_seconds: ", "file_mounts:", "workdir: ", "num_nodes: ", "train:", "checkpoint:", "recovery:",
        "\n  ", "\n- ", "- ", ": ", "&a ", "*a", "<<: *a", "!!int ", "!!str ", "{", "}", "[", "]", "'", "\"", "|\n", ">\n",
        "---\n", "...\n", "~", "null", "true", "0x7fffffff", "2147483647", "-1", "1e309", ".nan", ".inf", "8+", "4x",
        "16GB", "A100:8", "8080-8090", "${HOME}", "\t", "#");

    public override bool Execute(ReadOnlySpan<byte> data)
    {
        var yaml = Encoding.UTF8.GetString(data);
        var accepted = false;
        try
        {
            _ = ServiceSpecParser.Parse(yaml, "fuzz.yaml");
            accepted = true;
        }
        catch (ServiceSpecException)
        {
        }

        try
        {
            _ = TaskSpecParser.Parse(yaml, "fuzz.yaml");
            accepted = true;
        }
        catch (TaskSpecException)
        {
        }

        return accepted;
    }
}
