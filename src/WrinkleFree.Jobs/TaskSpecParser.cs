using System.Text.RegularExpressions;
using WrinkleFree.Jobs.Checkpoints;
using WrinkleFree.Platform.Specs;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace WrinkleFree.Jobs;

/// <summary>
/// Reads a managed-job task YAML into a <see cref="TaskSpec"/>. Unknown keys and bad values are
/// <see cref="TaskSpecException"/>s naming the key path, line and column.
/// </summary>
public static partial class TaskSpecParser
{
    private static readonly string[] RootKeys = ["name", "resources", "envs", "workdir", "setup", "run", "train", "checkpoint", "job_recovery", "num_nodes"];

    private static readonly string[] ResourceKeys =
    [
        "cpus", "memory", "accelerators", "use_spot", "job_recovery", "infra", "cloud", "region", "zone", "instance_type",
        "disk_size", "disk_tier", "image_id", "labels",
    ];

    private static readonly string[] CheckpointKeys = ["store", "mode", "every_steps", "keep_last_n"];
    private static readonly string[] RecoveryKeys = ["strategy", "max_restarts_on_errors"];
    private static readonly string[] Modes = ["COPY", "MOUNT_CACHED"];

    // The trainer's checkpoint options come from the checkpoint: section only, so one job never names two stores.
    private static readonly string[] CheckpointOptions = ["checkpoint-store", "checkpoint-mode", "checkpoint-every", "keep-last-n"];

    /// <summary>Parses <paramref name="yaml"/>; <paramref name="sourceName"/> (the file) prefixes error messages.</summary>
    public static TaskSpec Parse(string yaml, string? sourceName = null)
    {
        ArgumentNullException.ThrowIfNull(yaml);
        var reader = new TaskYamlReader(sourceName);
        var stream = new YamlStream();
        try
        {
            // Bounded before loading: the node tree is built and read recursively (see YamlLimits).
            YamlLimits.Check(yaml);
            stream.Load(new StringReader(yaml));
        }
        catch (YamlLimitException error)
        {
            throw reader.Error("", error.Start, error.Detail);
        }
        catch (YamlException error)
        {
            throw reader.Error("", error.Start, $"YAML syntax error: {YamlPosition().Replace(error.Message, "")}");
        }
        catch (Exception error) when (error is InvalidOperationException or ArgumentException)
        {
            // YamlDotNet's scanner and node loader throw these, not YamlException, on some malformed documents (found by
            // bench/WrinkleFree.Fuzz): they are still a syntax error in the file, not a crash.
            throw reader.Error("", Mark.Empty, "YAML syntax error: the document is malformed (check the indentation, brackets and quotes)");
        }

        if (stream.Documents.Count == 0 || TaskYamlReader.IsNull(stream.Documents[0].RootNode))
        {
            throw reader.Error("", Mark.Empty, "the task is empty; give at least run: or train:");
        }

        if (stream.Documents.Count > 1)
        {
            throw reader.Error("", stream.Documents[1].RootNode.Start, "a task is one YAML document; found a second one");
        }

        return ReadRoot(stream.Documents[0].RootNode, reader);
    }

    /// <summary>Reads and parses a task file; errors name the file.</summary>
    public static TaskSpec ParseFile(string path) => Parse(File.ReadAllText(path), path);

    private static TaskSpec ReadRoot(YamlNode root, TaskYamlReader reader)
    {
        var spec = new TaskSpec();
        YamlNode? runNode = null;
        YamlNode? trainNode = null;
        YamlNode? recoveryNode = null;
        foreach (var (key, keyNode, value) in reader.Map(root, "", RootKeys))
        {
            if (TaskYamlReader.IsNull(value))
            {
                continue;
            }

            switch (key)
            {
                case "name":
                    spec = spec with { Name = reader.String(value, key) };
                    break;
                case "workdir":
                    spec = spec with { Workdir = reader.String(value, key) };
                    break;
                case "setup":
                    spec = spec with { Setup = reader.String(value, key) };
                    break;
                case "run":
                    spec = spec with { Run = reader.String(value, key) };
                    runNode = value;
                    break;
                case "num_nodes":
                    if (reader.Int(value, key, 1) != 1)
                    {
                        throw reader.Error(key, value, "a managed job runs on this one machine; num_nodes must be 1");
                    }

                    break;
                case "envs":
                    spec = spec with { Envs = ReadEnvs(value, key, reader) };
                    break;
                case "resources":
                    var (resources, nested) = ReadResources(value, key, reader);
                    spec = spec with { Resources = resources };
                    if (nested is not null)
                    {
                        if (recoveryNode is not null)
                        {
                            throw reader.Error("resources.job_recovery", nested, "job_recovery is given twice (top level and under resources); keep one");
                        }

                        recoveryNode = nested;
                        spec = spec with { Recovery = ReadRecovery(nested, "resources.job_recovery", reader) };
                    }

                    break;
                case "job_recovery":
                    if (recoveryNode is not null)
                    {
                        throw reader.Error(key, keyNode, "job_recovery is given twice (top level and under resources); keep one");
                    }

                    recoveryNode = value;
                    spec = spec with { Recovery = ReadRecovery(value, key, reader) };
                    break;
                case "train":
                    trainNode = value;
                    spec = spec with { Train = ReadTrain(value, key, reader) };
                    break;
                case "checkpoint":
                    spec = spec with { Checkpoint = ReadCheckpoint(value, key, reader) };
                    break;
            }
        }

        if (runNode is not null && trainNode is not null)
        {
            throw reader.Error("train", trainNode, "give either run: (shell commands) or train: (a stage), not both");
        }

        if (runNode is null && trainNode is null)
        {
            throw reader.Error("", root, "the task has neither run: (shell commands) nor train: (a stage); give one");
        }

        return spec;
    }

    private static Dictionary<string, string> ReadEnvs(YamlNode node, string path, TaskYamlReader reader)
    {
        var envs = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, keyNode, value) in reader.Map(node, path, null))
        {
            if (!EnvName().IsMatch(key))
            {
                throw reader.Error(TaskYamlReader.Join(path, key), keyNode, $"'{key}' is not a valid environment variable name");
            }

            if (TaskYamlReader.IsNull(value))
            {
                throw reader.Error(TaskYamlReader.Join(path, key), value, "has no value; give one (quote it to pass an empty string: \"\")");
            }

            envs[key] = reader.String(value, TaskYamlReader.Join(path, key));
        }

        return envs;
    }

    private static (TaskResources Resources, YamlNode? JobRecovery) ReadResources(YamlNode node, string path, TaskYamlReader reader)
    {
        var resources = new TaskResources();
        YamlNode? recovery = null;
        foreach (var (key, _, value) in reader.Map(node, path, ResourceKeys))
        {
            var keyPath = TaskYamlReader.Join(path, key);
            if (TaskYamlReader.IsNull(value))
            {
                continue;
            }

            switch (key)
            {
                case "cpus":
                    resources = resources with { Cpus = ReadAmount(value, keyPath, reader) };
                    break;
                case "memory":
                    resources = resources with { Memory = ReadAmount(value, keyPath, reader) };
                    break;
                case "accelerators":
                    resources = resources with { Accelerators = reader.String(value, keyPath) };
                    break;
                case "use_spot":
                    resources = resources with { UseSpot = reader.Bool(value, keyPath) };
                    break;
                case "job_recovery":
                    recovery = value;
                    break;
                case "infra":
                    resources = resources with { Infra = reader.String(value, keyPath) };
                    break;
                case "image_id":
                    resources = resources with { ImageId = reader.String(value, keyPath) };
                    break;
            }
        }

        return (resources, recovery);
    }

    /// <summary><c>4</c>, <c>4+</c> or <c>0.5</c>: a positive number with an optional trailing '+'.</summary>
    private static string ReadAmount(YamlNode node, string path, TaskYamlReader reader)
    {
        var text = reader.String(node, path);
        return double.TryParse(text.TrimEnd('+'), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var amount) && amount > 0
            ? text
            : throw reader.Error(path, node, $"must be a positive number, optionally followed by '+' (at least), got '{text}'");
    }

    private static RecoverySpec ReadRecovery(YamlNode node, string path, TaskYamlReader reader)
    {
        if (node is YamlScalarNode)
        {
            return new RecoverySpec { Strategy = reader.Choice(node, path, RecoverySpec.Strategies) };
        }

        var recovery = new RecoverySpec();
        foreach (var (key, _, value) in reader.Map(node, path, RecoveryKeys))
        {
            var keyPath = TaskYamlReader.Join(path, key);
            recovery = key switch
            {
                "strategy" => recovery with { Strategy = reader.Choice(value, keyPath, RecoverySpec.Strategies) },
                _ => recovery with { MaxRestartsOnErrors = reader.Int(value, keyPath, 0) },
            };
        }

        return recovery;
    }

    private static TrainSpec ReadTrain(YamlNode node, string path, TaskYamlReader reader)
    {
        string? stage = null;
        var settings = new List<KeyValuePair<string, string>>();
        foreach (var (key, keyNode, value) in reader.Map(node, path, null))
        {
            var keyPath = TaskYamlReader.Join(path, key);
            if (key == "stage")
            {
                stage = reader.Choice(value, keyPath, TrainSpec.Stages);
                continue;
            }

            if (!OptionName().IsMatch(key))
            {
                throw reader.Error(keyPath, keyNode, $"'{key}' cannot be a wf train option; use letters, digits, '_' and '-'");
            }

            var option = key.Replace('_', '-');
            if (CheckpointOptions.Contains(option))
            {
                throw reader.Error(keyPath, keyNode, $"set the checkpoint store in the checkpoint: section, not as train.{key}");
            }

            switch (value)
            {
                case YamlSequenceNode list:
                    for (var i = 0; i < list.Children.Count; i++)
                    {
                        settings.Add(new(option, Scalar(list.Children[i], $"{keyPath}[{i}]", reader)));
                    }

                    break;
                default:
                    settings.Add(new(option, Scalar(value, keyPath, reader)));
                    break;
            }
        }

        return stage is null
            ? throw reader.Error(TaskYamlReader.Join(path, "stage"), node, $"is required: one of {string.Join(", ", TrainSpec.Stages)}")
            : new TrainSpec { Stage = stage, Settings = settings };
    }

    private static string Scalar(YamlNode node, string path, TaskYamlReader reader) =>
        node is YamlScalarNode && !TaskYamlReader.IsNull(node)
            ? reader.String(node, path)
            : throw reader.Error(path, node, $"must be a value or a list of values (it becomes a wf train option), got {TaskYamlReader.Describe(node)}");

    private static CheckpointSpec ReadCheckpoint(YamlNode node, string path, TaskYamlReader reader)
    {
        string? store = null;
        var mode = CheckpointMode.Copy;
        int? every = null;
        int? keep = null;
        foreach (var (key, _, value) in reader.Map(node, path, CheckpointKeys))
        {
            var keyPath = TaskYamlReader.Join(path, key);
            switch (key)
            {
                case "store":
                    store = reader.String(value, keyPath);
                    if (CheckpointStores.Problem(store) is { } problem)
                    {
                        throw reader.Error(keyPath, value, problem);
                    }

                    break;
                case "mode":
                    mode = reader.Choice(value, keyPath, Modes) == "COPY" ? CheckpointMode.Copy : CheckpointMode.MountCached;
                    break;
                case "every_steps":
                    every = reader.Int(value, keyPath, 1);
                    break;
                case "keep_last_n":
                    keep = reader.Int(value, keyPath, 0);
                    break;
            }
        }

        return store is null
            ? throw reader.Error(TaskYamlReader.Join(path, "store"), node, $"is required: {CheckpointLocation.Supported}")
            : new CheckpointSpec { Store = store, Mode = mode, EverySteps = every, KeepLastN = keep };
    }

    [GeneratedRegex(@"^\(Line: \d+, Col: \d+, Idx: \d+\) - \(Line: \d+, Col: \d+, Idx: \d+\): ")]
    private static partial Regex YamlPosition();

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex EnvName();

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_-]*$")]
    private static partial Regex OptionName();
}
