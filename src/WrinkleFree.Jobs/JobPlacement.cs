namespace WrinkleFree.Jobs;

/// <summary>
/// Where a managed job runs, settled once at launch from the task's <c>resources.infra</c> / <c>resources.image_id</c> and the
/// launch flags (flags win), and stored with the job so that a restarted controller runs it in the same place.
/// </summary>
public sealed record JobPlacement
{
    /// <summary>The infra name of this machine.</summary>
    public const string Local = "local";

    /// <summary>The infra name of a Kubernetes cluster (batch/v1 Jobs).</summary>
    public const string Kubernetes = "kubernetes";

    /// <summary>A placement on this machine.</summary>
    public static readonly JobPlacement OnThisMachine = new();

    /// <summary><see cref="Local"/> or <see cref="Kubernetes"/>.</summary>
    public string Infra { get; init; } = Local;

    /// <summary>The kubeconfig context; null: the current context (or the pod's own account inside a cluster).</summary>
    public string? Context { get; init; }

    /// <summary>The namespace of the Job; null: the context's namespace, else <c>default</c>.</summary>
    public string? Namespace { get; init; }

    /// <summary>The container image (kubernetes).</summary>
    public string? Image { get; init; }

    /// <summary>
    /// The placement of <paramref name="spec"/> with the launch flags applied: <c>local</c>, <c>k8s</c> or <c>kubernetes</c>,
    /// optionally with <c>/CONTEXT</c>. Any other infra, or a kubernetes job without an image, is a
    /// <see cref="TaskSpecException"/> naming it.
    /// </summary>
    public static JobPlacement Resolve(TaskSpec spec, JobLaunchFlags? flags, string? sourceName)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var (infraKey, infraText) = flags?.Infra is { } flag ? ("--infra", flag) : ("resources.infra", spec.Resources.Infra ?? Local);
        var slash = infraText.IndexOf('/', StringComparison.Ordinal);
        var cloud = (slash < 0 ? infraText : infraText[..slash]).ToLowerInvariant();
        var context = slash < 0 ? null : infraText[(slash + 1)..];
        if (cloud == Local && context is null)
        {
            return OnThisMachine;
        }

        if (cloud is not ("k8s" or Kubernetes) || context is { Length: 0 })
        {
            throw new TaskSpecException(infraKey, 0, 0,
                $"wf jobs cannot run on infra '{infraText}': it runs on this machine (local) or on Kubernetes (k8s, k8s/CONTEXT); `wf export skypilot` hands other clouds to SkyPilot",
                sourceName);
        }

        var image = flags?.Image ?? spec.Resources.ImageId;
        if (image is not null && image.StartsWith("docker:", StringComparison.Ordinal))
        {
            // SkyPilot writes container images as docker:IMAGE.
            image = image["docker:".Length..];
        }

        if (string.IsNullOrWhiteSpace(image))
        {
            throw new TaskSpecException("resources.image_id", 0, 0, "a kubernetes job needs a container image with wf in it: set resources.image_id (docker:IMAGE) or pass --image", sourceName);
        }

        if (spec.Setup is not null)
        {
            // Each pod is a fresh container, so "once before the first attempt" has no single place to run.
            throw new TaskSpecException("setup", 0, 0, "setup: is not supported on kubernetes yet; bake it into the image or put it at the top of run:", sourceName);
        }

        if (spec.Workdir is { } workdir && !workdir.StartsWith('/'))
        {
            // A relative workdir names a folder on this machine, which the pod never sees; nothing copies it there.
            throw new TaskSpecException("workdir", 0, 0,
                $"workdir '{workdir}' is a folder here, which a kubernetes pod cannot see; give an absolute path inside the image, or bake the folder into the image", sourceName);
        }

        // What a pod writes to a relative folder goes with the pod: checkpoints would never be found again after an
        // eviction, and the trained model would be gone when the Job finishes.
        if (spec.Checkpoint is { } checkpoint && !checkpoint.Store.Contains("://", StringComparison.Ordinal) && !checkpoint.Store.StartsWith('/'))
        {
            throw new TaskSpecException("checkpoint.store", 0, 0,
                $"checkpoint store '{checkpoint.Store}' is a folder here, which a kubernetes pod cannot see and loses with itself: use an object store (s3://, gs://, r2://, az://) or an absolute path on a volume the pods mount", sourceName);
        }

        if (spec.Train?.Settings.FirstOrDefault(s => s.Key == "out") is { Value: { } output } && !output.Contains("://", StringComparison.Ordinal) && !output.StartsWith('/'))
        {
            throw new TaskSpecException("train.out", 0, 0,
                $"train.out '{output}' is a folder inside the pod, gone with it when the Job ends: give an absolute path on a volume the pods mount", sourceName);
        }

        return new JobPlacement { Infra = Kubernetes, Context = flags?.Context ?? context, Namespace = flags?.Namespace, Image = image };
    }
}
