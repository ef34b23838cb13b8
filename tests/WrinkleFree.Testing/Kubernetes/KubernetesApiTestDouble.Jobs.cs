using System.Globalization;
using System.Net;
using System.Threading.Channels;
using k8s;
using k8s.Models;
using Microsoft.AspNetCore.Http;

namespace WrinkleFree.Testing.Kubernetes;

/// <summary>
/// batch/v1 Jobs: create, get, list, watch and delete (propagation Orphan, Background or Foreground), and a minimal Job
/// controller: one pod at a time from the template (owned by the Job, labelled job-name and controller-uid), a failed pod
/// counted against backoffLimit unless the pod failure policy says otherwise (Ignore on a pod condition such as
/// DisruptionTarget, FailJob on exit codes), and the Job marked Complete or Failed. Pods deleted by someone else are
/// replaced without counting. Unlike the real controller there is no backoff delay between pods and no parallelism.
/// </summary>
public sealed partial class KubernetesApiTestDouble
{
    private readonly Dictionary<(string Ns, string Name), JobEntry> _jobs = [];
    private readonly List<Watcher> _jobWatchers = [];

    /// <summary>Copies of the Jobs of <paramref name="ns"/> as the API holds them now.</summary>
    public IReadOnlyList<V1Job> Jobs(string ns)
    {
        lock (_gate)
            return [.. _jobs.Values.Where(j => j.Job.Metadata.NamespaceProperty == ns).Select(j => CopyJob(j.Job))];
    }

    /// <summary>Deletes a Job as someone else would (kubectl delete job, propagation Background).</summary>
    public Task DeleteJobAsOtherAsync(string ns, string name) => RemoveJobAsync(ns, name, "Background");

    private async Task BatchJobsAsync(HttpContext context, string ns, string[] rest)
    {
        var method = context.Request.Method;
        var name = rest.Length > 0 ? rest[0] : null;
        var watch = context.Request.Query["watch"] is { Count: > 0 } w && w[0] is "true" or "1";
        var verb = (method, name) switch
        {
            ("GET", null) => watch ? "watch" : "list",
            ("GET", _) => "get",
            ("POST", null) => "create",
            ("DELETE", _) => "delete",
            _ => method.ToLowerInvariant(),
        };
        if (await RefusedAsync(context, verb, "jobs", ns, name, "batch"))
            return;
        bool known;
        lock (_gate)
            known = _namespaces.Contains(ns);
        if (!known && method == "POST")
        {
            await WriteStatusAsync(context, HttpStatusCode.NotFound, "NotFound", $"namespaces \"{ns}\" not found", "namespaces", ns);
            return;
        }

        switch (verb, name)
        {
            case ("watch", null):
                await WatchJobsAsync(context, ns);
                return;
            case ("list", null):
                await ListJobsAsync(context, ns);
                return;
            case ("create", null):
                await CreateJobAsync(context, ns);
                return;
            case ("get", not null):
                await GetJobAsync(context, ns, name);
                return;
            case ("delete", not null):
                await DeleteJobAsync(context, ns, name);
                return;
        }

        await WriteStatusAsync(context, HttpStatusCode.MethodNotAllowed, "MethodNotAllowed", $"the test double does not serve {method} {context.Request.Path}");
    }

    private async Task CreateJobAsync(HttpContext context, string ns)
    {
        var job = await ReadBodyAsync<V1Job>(context);
        var name = job.Metadata?.Name;
        if (string.IsNullOrEmpty(name) || job.Spec?.Template?.Spec?.Containers is not { Count: > 0 })
        {
            await WriteStatusAsync(context, HttpStatusCode.UnprocessableEntity, "Invalid", "Job is invalid: metadata.name and spec.template.spec.containers are required", "jobs", name);
            return;
        }

        if (job.Spec.Template.Spec.RestartPolicy is not ("Never" or "OnFailure"))
        {
            await WriteStatusAsync(context, HttpStatusCode.UnprocessableEntity, "Invalid", "Job is invalid: spec.template.spec.restartPolicy: Unsupported value: must be Never or OnFailure", "jobs", name);
            return;
        }

        JobEntry? entry = null;
        V1Job? created = null;
        lock (_gate)
        {
            if (!_jobs.ContainsKey((ns, name)))
            {
                job.ApiVersion = "batch/v1";
                job.Kind = "Job";
                job.Metadata!.NamespaceProperty = ns;
                job.Metadata.Uid = Guid.NewGuid().ToString();
                job.Metadata.CreationTimestamp = DateTime.UtcNow;
                job.Spec.BackoffLimit ??= 6;
                job.Status = new V1JobStatus { Active = 0, Failed = 0, Succeeded = 0, StartTime = DateTime.UtcNow };
                entry = new JobEntry(job);
                _jobs[(ns, name)] = entry;
                PublishJob(entry, "ADDED");
                created = CopyJob(job);
            }
        }

        if (entry is null)
        {
            await WriteStatusAsync(context, HttpStatusCode.Conflict, "AlreadyExists", $"jobs.batch \"{name}\" already exists", "jobs", name);
            return;
        }

        await WriteJsonAsync(context, HttpStatusCode.Created, created!);
        entry.Controller = Task.Run(() => RunJobControllerAsync(entry));
    }

    private async Task GetJobAsync(HttpContext context, string ns, string name)
    {
        V1Job? job;
        lock (_gate)
            job = _jobs.GetValueOrDefault((ns, name)) is { } entry ? CopyJob(entry.Job) : null;
        if (job is null)
            await WriteStatusAsync(context, HttpStatusCode.NotFound, "NotFound", $"jobs.batch \"{name}\" not found", "jobs", name);
        else
            await WriteJsonAsync(context, HttpStatusCode.OK, job);
    }

    private async Task ListJobsAsync(HttpContext context, string ns)
    {
        var selector = LabelSelector.Parse(context.Request.Query["labelSelector"]);
        V1JobList list;
        lock (_gate)
        {
            list = new V1JobList
            {
                ApiVersion = "batch/v1",
                Kind = "JobList",
                Metadata = new V1ListMeta { ResourceVersion = _resourceVersion.ToString(CultureInfo.InvariantCulture) },
                Items = [.. _jobs.Values.Where(j => j.Job.Metadata.NamespaceProperty == ns && selector.Matches(j.Job.Metadata.Labels)).OrderBy(j => j.Job.Metadata.Name, StringComparer.Ordinal).Select(j => CopyJob(j.Job))],
            };
        }

        await WriteJsonAsync(context, HttpStatusCode.OK, list);
    }

    /// <summary>A watch of Jobs from now: ADDED for those that exist, then every change (no history to resume from).</summary>
    private async Task WatchJobsAsync(HttpContext context, string ns)
    {
        var selector = LabelSelector.Parse(context.Request.Query["labelSelector"]);
        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/json";
        var watcher = new Watcher(ns, selector);
        List<string> backlog;
        lock (_gate)
        {
            backlog = [.. _jobs.Values.Where(j => j.Job.Metadata.NamespaceProperty == ns && selector.Matches(j.Job.Metadata.Labels)).Select(j => JobEventLine("ADDED", j.Job))];
            _jobWatchers.Add(watcher);
        }

        try
        {
            foreach (var line in backlog)
                await context.Response.WriteAsync(line + "\n", context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
            using var bound = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _stopping.Token);
            await foreach (var line in watcher.Lines.Reader.ReadAllAsync(bound.Token))
            {
                await context.Response.WriteAsync(line + "\n", bound.Token);
                await context.Response.Body.FlushAsync(bound.Token);
            }
        }
        catch (OperationCanceledException)
        {
            // The client left, or the double stops.
        }
        finally
        {
            lock (_gate)
                _jobWatchers.Remove(watcher);
        }
    }

    private async Task DeleteJobAsync(HttpContext context, string ns, string name)
    {
        V1DeleteOptions? options = null;
        if (context.Request.ContentLength is > 0 || context.Request.Headers.TransferEncoding.Count > 0)
            options = await ReadBodyAsync<V1DeleteOptions>(context);
        // The API's default for batch/v1 Jobs is to orphan their pods (kubectl asks for Background itself).
        var policy = options?.PropagationPolicy ?? (context.Request.Query["propagationPolicy"] is { Count: > 0 } p ? p[0] : null) ?? "Orphan";
        V1Job? answer;
        lock (_gate)
            answer = _jobs.GetValueOrDefault((ns, name)) is { } entry ? CopyJob(entry.Job) : null;
        if (answer is null)
        {
            await WriteStatusAsync(context, HttpStatusCode.NotFound, "NotFound", $"jobs.batch \"{name}\" not found", "jobs", name);
            return;
        }

        await WriteJsonAsync(context, HttpStatusCode.OK, answer);
        _ = Task.Run(() => RemoveJobAsync(ns, name, policy));
    }

    /// <summary>The garbage collector's part: Background removes the Job then its pods, Foreground the pods first, Orphan only the Job.</summary>
    private async Task RemoveJobAsync(string ns, string name, string policy)
    {
        JobEntry? entry;
        List<string> pods;
        lock (_gate)
        {
            if (!_jobs.TryGetValue((ns, name), out entry))
                return;
            entry.Deleting = true;
            entry.Job.Metadata.DeletionTimestamp ??= DateTime.UtcNow;
            pods = [.. OwnedPods(entry).Select(p => p.Pod.Metadata.Name)];
            if (policy != "Foreground")
                ForgetJob(entry);
            else
                PublishJob(entry, "MODIFIED");
        }

        if (policy == "Orphan")
        {
            lock (_gate)
            {
                foreach (var pod in _pods.Values.Where(p => pods.Contains(p.Pod.Metadata.Name) && p.Pod.Metadata.NamespaceProperty == ns))
                    pod.Pod.Metadata.OwnerReferences = null;
            }

            return;
        }

        await Task.WhenAll(pods.Select(pod => Task.Run(() => RemoveAsync(ns, pod, TimeSpan.FromSeconds(GraceOf(entry))))));
        lock (_gate)
        {
            // Only this Job: a new one of the same name may exist by now.
            if (_jobs.GetValueOrDefault((ns, name)) == entry)
                ForgetJob(entry);
        }
    }

    private void ForgetJob(JobEntry entry)
    {
        _jobs.Remove((entry.Job.Metadata.NamespaceProperty, entry.Job.Metadata.Name));
        PublishJob(entry, "DELETED");
    }

    private static long GraceOf(JobEntry entry) => entry.Job.Spec.Template.Spec.TerminationGracePeriodSeconds ?? 30;

    private IEnumerable<PodEntry> OwnedPods(JobEntry entry) =>
        _pods.Values.Where(p => p.Pod.Metadata.OwnerReferences?.Any(r => r.Uid == entry.Job.Metadata.Uid) == true);

    /// <summary>The Job controller: one pod at a time until one succeeds, the failure policy fails the Job, or backoffLimit is used up.</summary>
    private async Task RunJobControllerAsync(JobEntry entry)
    {
        var job = entry.Job;
        var ns = job.Metadata.NamespaceProperty;
        while (true)
        {
            var pod = new V1Pod
            {
                Metadata = new V1ObjectMeta
                {
                    Name = $"{job.Metadata.Name}-{Guid.NewGuid().ToString("N")[..5]}",
                    Labels = new Dictionary<string, string>(job.Spec.Template.Metadata?.Labels ?? new Dictionary<string, string>(), StringComparer.Ordinal)
                    {
                        ["job-name"] = job.Metadata.Name,
                        ["batch.kubernetes.io/job-name"] = job.Metadata.Name,
                        ["controller-uid"] = job.Metadata.Uid,
                        ["batch.kubernetes.io/controller-uid"] = job.Metadata.Uid,
                    },
                    OwnerReferences = [new V1OwnerReference { ApiVersion = "batch/v1", Kind = "Job", Name = job.Metadata.Name, Uid = job.Metadata.Uid, Controller = true, BlockOwnerDeletion = true }],
                },
                Spec = KubernetesJson.Deserialize<V1PodSpec>(KubernetesJson.Serialize(job.Spec.Template.Spec)),
            };
            PodEntry? started;
            lock (_gate)
            {
                if (entry.Deleting || _stopping.IsCancellationRequested)
                    return;
                started = AddPod(ns, pod);
                job.Status.Active = 1;
                PublishJob(entry, "MODIFIED");
            }

            if (started is null)
                return;
            started.Kubelet = Task.Run(() => RunKubeletAsync(started));
            var (phase, gone) = await PodEndAsync(entry, started);
            lock (_gate)
            {
                if (entry.Deleting || _stopping.IsCancellationRequested)
                    return;
                job.Status.Active = 0;
                if (gone)
                {
                    // Deleted by someone else: a disruption, replaced without counting.
                    PublishJob(entry, "MODIFIED");
                    continue;
                }

                if (phase == "Succeeded")
                {
                    job.Status.Succeeded = 1;
                    job.Status.CompletionTime = DateTime.UtcNow;
                    Finish(entry, "Complete", "CompletionsReached", "Reached expected number of succeeded pods");
                    return;
                }

                var failed = started.Pod;
                if (Matches(job, failed, "Ignore"))
                {
                    PublishJob(entry, "MODIFIED");
                    continue;
                }

                job.Status.Failed = (job.Status.Failed ?? 0) + 1;
                if (Matches(job, failed, "FailJob"))
                {
                    var code = failed.Status.ContainerStatuses?.FirstOrDefault()?.State?.Terminated?.ExitCode;
                    Finish(entry, "Failed", "PodFailurePolicy", $"Container {failed.Spec.Containers[0].Name} for pod {ns}/{failed.Metadata.Name} failed with exit code {code} matching FailJob rule");
                    return;
                }

                if (job.Status.Failed > job.Spec.BackoffLimit)
                {
                    Finish(entry, "Failed", "BackoffLimitExceeded", "Job has reached the specified backoff limit");
                    return;
                }

                PublishJob(entry, "MODIFIED");
            }
        }
    }

    /// <summary>Waits until the pod ends (Succeeded or Failed) or is gone.</summary>
    private async Task<(string? Phase, bool Gone)> PodEndAsync(JobEntry job, PodEntry pod)
    {
        while (true)
        {
            lock (_gate)
            {
                if (job.Deleting)
                    return (null, false);
                if (!_pods.TryGetValue((pod.Pod.Metadata.NamespaceProperty, pod.Pod.Metadata.Name), out var current) || current != pod)
                    return (null, true);
                if (pod.Pod.Status.Phase is "Succeeded" or "Failed" && !pod.Deleting)
                    return (pod.Pod.Status.Phase, false);
            }

            await Task.Delay(20, _stopping.Token);
        }
    }

    /// <summary>Whether a rule of the Job's pod failure policy with <paramref name="action"/> matches the failed pod.</summary>
    private static bool Matches(V1Job job, V1Pod pod, string action)
    {
        foreach (var rule in job.Spec.PodFailurePolicy?.Rules ?? [])
        {
            if (rule.Action != action)
                continue;
            if (rule.OnPodConditions?.Any(p => pod.Status.Conditions?.Any(c => c.Type == p.Type && c.Status == (p.Status ?? "True")) == true) == true)
                return true;
            if (rule.OnExitCodes is { } codes && pod.Status.Conditions?.Any(c => c.Type == "DisruptionTarget" && c.Status == "True") != true)
            {
                var code = pod.Status.ContainerStatuses?.FirstOrDefault(c => codes.ContainerName is null || c.Name == codes.ContainerName)?.State?.Terminated?.ExitCode;
                if (code is { } exit && codes.Values.Contains(exit) == (codes.OperatorProperty == "In"))
                    return true;
            }
        }

        return false;
    }

    private void Finish(JobEntry entry, string type, string reason, string message)
    {
        entry.Job.Status.Conditions ??= [];
        entry.Job.Status.Conditions.Add(new V1JobCondition { Type = type, Status = "True", Reason = reason, Message = message, LastTransitionTime = DateTime.UtcNow, LastProbeTime = DateTime.UtcNow });
        PublishJob(entry, "MODIFIED");
    }

    /// <summary>Records a change of a Job (under the lock): a new resourceVersion and every matching Job watch.</summary>
    private void PublishJob(JobEntry entry, string type)
    {
        entry.Job.Metadata.ResourceVersion = NextVersion();
        var line = JobEventLine(type, entry.Job);
        foreach (var watcher in _jobWatchers.Where(w => w.Ns == entry.Job.Metadata.NamespaceProperty && w.Selector.Matches(entry.Job.Metadata.Labels)))
            watcher.Lines.Writer.TryWrite(line);
    }

    private static string JobEventLine(string type, V1Job job) => $"{{\"type\":\"{type}\",\"object\":{KubernetesJson.Serialize(job)}}}";

    private static V1Job CopyJob(V1Job job) => KubernetesJson.Deserialize<V1Job>(KubernetesJson.Serialize(job));

    private sealed class JobEntry(V1Job job)
    {
        public V1Job Job { get; } = job;

        public bool Deleting { get; set; }

        public Task? Controller { get; set; }
    }
}
