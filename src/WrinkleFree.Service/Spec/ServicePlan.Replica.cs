using System.Globalization;

namespace WrinkleFree.Service.Spec;

public sealed partial record ServicePlan
{
    /// <summary>The program a replica without a run script runs; the daemon puts a `wf` first on every replica's PATH.</summary>
    public const string WfCommand = "wf";

    private static readonly string[] Backends = ["bitnet", "vllm"];

    private static readonly string[] ModelOptions = ["--model", "-m"];

    /// <summary>
    /// What a replica runs, for a launch on <paramref name="machine"/> (null when the tier's machine is not known here):
    /// the same command the plan shows.
    /// </summary>
    internal static ReplicaCommandPlan ReplicaFor(ServiceSpec spec, MachineShape? machine, string? defaultModelPath) =>
        ReplicaFor(spec, machine, defaultModelPath, checks: null);

    /// <summary>
    /// No <c>run:</c>, or the design's <c>python -m inference_server ARGS</c>: <c>wf replica [ARGS]</c>, configured by the
    /// envs (BACKEND, MODEL_PATH, CONTEXT_SIZE, NUM_THREADS, MLOCK), with MODEL_PATH defaulting to the default model and
    /// NUM_THREADS to the requested cpus. Any other <c>run:</c> is a shell script run as written with the spec's envs.
    /// </summary>
    private static ReplicaCommandPlan ReplicaFor(ServiceSpec spec, MachineShape? machine, string? defaultModelPath, Checks? checks)
    {
        var portHint = spec.Service.Ports ?? (spec.Resources.Ports is [var port] ? port.Start : null);
        List<string> argv;
        string origin;
        if (spec.Run is null)
        {
            argv = [WfCommand, "replica"];
            origin = "no run: in the spec, so the replica server, configured by the envs";
        }
        else if (InferenceServerScript.Arguments(spec.Run) is { } arguments)
        {
            argv = [WfCommand, "replica", .. arguments];
            origin = $"run: python -m {InferenceServerScript.Module} ARGS, the design's name for the replica server, runs wf replica ARGS";
        }
        else
        {
            if (InferenceServerScript.MentionedButNotRecognised(spec.Run))
            {
                checks?.Warn("run", $"mentions {InferenceServerScript.Module} but is not one plain `python -m {InferenceServerScript.Module} ARGS` command "
                    + "(no variables, quotes only around words), so it runs as a shell script as written");
            }

            return new ReplicaCommandPlan
            {
                Run = spec.Run,
                Origin = "run: a shell script, run as written by /bin/sh",
                Setup = spec.Setup,
                Workdir = spec.Workdir,
                Envs = spec.Envs,
                PortHint = portHint,
            };
        }

        var envs = new Dictionary<string, string>(spec.Envs, StringComparer.Ordinal);
        var derived = new Dictionary<string, string>(StringComparer.Ordinal);
        if (envs.TryGetValue("BACKEND", out var backend) && !Backends.Contains(backend) && checks is not null)
        {
            throw new ServiceSpecException("envs.BACKEND", $"must be {string.Join(" or ", Backends)} (the replica server's backends), got '{backend}'");
        }

        if (!envs.ContainsKey("NUM_THREADS") && ResourceFit.Threads(spec.Resources, machine) is { } threads)
        {
            envs["NUM_THREADS"] = threads.ToString(CultureInfo.InvariantCulture);
            derived["NUM_THREADS"] = $"resources.cpus {spec.Resources.Cpus}"
                + (machine is not null && ResourceFit.Cpus(spec.Resources) > machine.Cores ? $", at most this machine's {machine.Cores} cores" : "");
        }

        var modelGiven = envs.ContainsKey("MODEL_PATH") || argv.Any(a => ModelOptions.Contains(a) || a.StartsWith("--model=", StringComparison.Ordinal));
        if ((backend ?? "bitnet") == "bitnet" && !modelGiven)
        {
            if (defaultModelPath is not null)
            {
                envs["MODEL_PATH"] = defaultModelPath;
                derived["MODEL_PATH"] = "the default model, as `wf up` without a spec serves";
            }
            else if (checks is not null)
            {
                throw new ServiceSpecException("envs", "the replica needs a model: set envs.MODEL_PATH (no default model is configured here)");
            }
        }

        if (checks is not null && (backend ?? "bitnet") == "bitnet" && spec.Setup is null && !derived.ContainsKey("MODEL_PATH")
            && spec.Tiers.Any(t => t.Provider == TierProvider.Local)
            && ModelPathOf(envs, argv) is { } model && Path.IsPathRooted(model) && !File.Exists(model))
        {
            // A warning, not an error: the file may come later, and other tiers' machines have their own disks.
            checks.Warn(envs.ContainsKey("MODEL_PATH") && !argv.Any(a => ModelOptions.Contains(a)) ? "envs.MODEL_PATH" : "run",
                $"model file '{model}' does not exist on this machine: replicas on local tiers will fail until it does");
        }

        return new ReplicaCommandPlan
        {
            Argv = argv,
            Origin = origin,
            Setup = spec.Setup,
            Workdir = spec.Workdir,
            Envs = envs,
            DerivedEnvs = derived,
            PortHint = portHint,
        };
    }

    /// <summary>The model a bitnet replica will load: the argv's --model/-m value, else MODEL_PATH.</summary>
    private static string? ModelPathOf(Dictionary<string, string> envs, IReadOnlyList<string> argv)
    {
        for (var i = 0; i < argv.Count; i++)
        {
            if (argv[i].StartsWith("--model=", StringComparison.Ordinal))
                return argv[i]["--model=".Length..];
            if (ModelOptions.Contains(argv[i]) && i + 1 < argv.Count)
                return argv[i + 1];
        }
        return envs.GetValueOrDefault("MODEL_PATH");
    }
}
