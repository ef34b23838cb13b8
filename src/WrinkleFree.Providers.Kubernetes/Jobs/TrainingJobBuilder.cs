using System.Globalization;
using System.Text.RegularExpressions;
using k8s.Models;
using WrinkleFree.Jobs;

namespace WrinkleFree.Providers.Kubernetes.Jobs;

/// <summary>
/// A managed job as one batch/v1 Job: restartPolicy Never, backoffLimit = max_restarts_on_errors, and a pod failure policy
/// that gives SkyPilot's semantics natively: a pod taken away (DisruptionTarget: eviction, preemption, node drain) is
/// ignored and replaced without counting, and exit codes 64/65 (configuration error, out of memory) fail the Job at once.
/// </summary>
internal static partial class TrainingJobBuilder
{
    public const string ContainerName = "task";
    public const string JobLabel = "wrinklefree/job";
    public const string TaskLabel = "wrinklefree/task";

    public static string Name(JobRecord job) =>
        Trim($"wf-job-{job.Id.ToString(CultureInfo.InvariantCulture)}-{Slug(job.Name)}", 52);

    public static string Selector(JobRecord job) => $"{JobLabel}={job.Id.ToString(CultureInfo.InvariantCulture)}";

    public static V1Job Build(JobRun run, string @namespace)
    {
        var labels = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [JobLabel] = run.Job.Id.ToString(CultureInfo.InvariantCulture),
            [TaskLabel] = Trim(Slug(run.Job.Name), 63),
        };
        var workdir = run.Spec.Workdir is { } w && w.StartsWith('/') ? w : null;
        return new V1Job
        {
            ApiVersion = "batch/v1",
            Kind = "Job",
            Metadata = new V1ObjectMeta { Name = Name(run.Job), NamespaceProperty = @namespace, Labels = labels },
            Spec = new V1JobSpec
            {
                BackoffLimit = run.Spec.Recovery.MaxRestartsOnErrors,
                PodFailurePolicy = new V1PodFailurePolicy
                {
                    Rules =
                    [
                        new V1PodFailurePolicyRule { Action = "Ignore", OnPodConditions = [new V1PodFailurePolicyOnPodConditionsPattern { Type = "DisruptionTarget", Status = "True" }] },
                        new V1PodFailurePolicyRule
                        {
                            Action = "FailJob",
                            OnExitCodes = new V1PodFailurePolicyOnExitCodesRequirement
                            {
                                ContainerName = ContainerName, OperatorProperty = "In", Values = [TaskExitCodes.ConfigurationError, TaskExitCodes.OutOfMemory],
                            },
                        },
                    ],
                },
                Template = new V1PodTemplateSpec
                {
                    Metadata = new V1ObjectMeta { Labels = new Dictionary<string, string>(labels, StringComparer.Ordinal) },
                    Spec = new V1PodSpec
                    {
                        RestartPolicy = "Never",
                        Containers =
                        [
                            new V1Container
                            {
                                Name = ContainerName,
                                Image = run.Placement.Image,
                                Command = [.. run.Command],
                                // Only an absolute workdir means something in the image; a relative one named a folder here.
                                WorkingDir = workdir,
                                Env = [.. run.Environment.OrderBy(e => e.Key, StringComparer.Ordinal).Select(e => new V1EnvVar { Name = e.Key, Value = e.Value })],
                                Resources = Resources(run.Spec.Resources),
                            },
                        ],
                    },
                },
            },
        };
    }

    /// <summary>cpus and memory as requests ("4+" is at least 4: a request only; "4" is exactly: the limit too); GPUs as limits.</summary>
    private static V1ResourceRequirements Resources(TaskResources resources)
    {
        var requests = new Dictionary<string, ResourceQuantity>(StringComparer.Ordinal);
        var limits = new Dictionary<string, ResourceQuantity>(StringComparer.Ordinal);
        if (resources.Cpus is { } cpus)
        {
            requests["cpu"] = new ResourceQuantity(cpus.TrimEnd('+'));
            if (!cpus.EndsWith('+'))
                limits["cpu"] = new ResourceQuantity(cpus);
        }

        if (resources.Memory is { } memory)
        {
            requests["memory"] = new ResourceQuantity(memory.TrimEnd('+') + "Gi");
            if (!memory.EndsWith('+'))
                limits["memory"] = new ResourceQuantity(memory + "Gi");
        }

        if (resources.Accelerators is { } accelerators)
        {
            var colon = accelerators.LastIndexOf(':');
            limits["nvidia.com/gpu"] = new ResourceQuantity(colon < 0 ? "1" : accelerators[(colon + 1)..]);
        }

        return new V1ResourceRequirements { Requests = requests.Count == 0 ? null : requests, Limits = limits.Count == 0 ? null : limits };
    }

    private static string Slug(string text)
    {
        var slug = NotDns().Replace(text.ToLowerInvariant(), "-").Trim('-');
        return slug.Length == 0 ? "task" : slug;
    }

    private static string Trim(string text, int max) => (text.Length <= max ? text : text[..max]).TrimEnd('-', '.', '_');

    [GeneratedRegex("[^a-z0-9-]+")]
    private static partial Regex NotDns();
}
