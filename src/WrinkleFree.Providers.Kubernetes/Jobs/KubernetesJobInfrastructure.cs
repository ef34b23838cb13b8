using System.Net;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using WrinkleFree.Jobs;
using WrinkleFree.Service.Spec;

namespace WrinkleFree.Providers.Kubernetes.Jobs;

/// <summary>
/// Managed jobs on Kubernetes (<c>resources.infra: k8s</c>): one batch/v1 Job per managed job (see
/// <see cref="TrainingJobBuilder"/>), driven from the job's controller on this machine. The cluster's Job controller
/// retries failed pods up to backoffLimit and replaces preempted ones without counting them; this runner follows the
/// Job and its pods through two watches, copies their logs into the job's log, records every relaunch, recreates the Job if
/// someone else deletes it (a preemption too), and deletes it (propagation Background: its pods with it) on cancel, or when
/// the job's controller died (<see cref="AbandonAsync"/>).
/// </summary>
public sealed partial class KubernetesJobInfrastructure(KubernetesProviderOptions? options = null, TimeSpan? pollInterval = null, TimeProvider? time = null, ILogger? logger = null)
    : IJobInfrastructure
{
    // How long the last lines of a finished pod get to arrive through its log stream.
    private static readonly TimeSpan LogDrain = TimeSpan.FromSeconds(10);

    // How long the first list of the Job and its pods may take before the run gives up (RBAC, an API that is away).
    private static readonly TimeSpan SyncTimeout = TimeSpan.FromSeconds(30);

    // `wf jobs queue` waits at most this for the cluster when it removes a dead controller's Job.
    private static readonly TimeSpan AbandonTimeout = TimeSpan.FromSeconds(20);

    private readonly KubernetesProviderOptions _options = options ?? new KubernetesProviderOptions();
    private readonly TimeSpan _poll = pollInterval ?? TimeSpan.FromSeconds(1);
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly ILogger _logger = logger ?? NullLogger.Instance;

    /// <inheritdoc />
    public string Name => JobPlacement.Kubernetes;

    /// <inheritdoc />
    public async Task<JobRunResult> RunAsync(JobRun run, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);
        ClusterConnection connection;
        try
        {
            connection = ClusterConnection.Open(run.Placement.Context, "resources.infra", _options, _time, _logger);
        }
        catch (ServiceSpecException e)
        {
            return new JobRunResult(JobStatus.FailedPrechecks, e.Message);
        }

        await using (connection.ConfigureAwait(false))
        {
            var ns = run.Placement.Namespace ?? connection.DefaultNamespace ?? "default";
            var state = new RunState(run, connection, ns);
            await using var logs = new PodLogCopier(connection.Client, ns, run.Job.Id, run.Reporter);
            // The Job and its pods come from two watches (one list each, then events): the cluster is asked nothing per tick.
            var selector = TrainingJobBuilder.Selector(run.Job);
            await using var jobs = Watches.Jobs(connection.Client, ns, selector, _options.WatchRetryDelay, _time, _logger);
            await using var pods = Watches.Pods(connection.Client, ns, selector, _options.WatchRetryDelay, _time, _logger);
            JobRunResult Unwatchable(string resource, string? error) => new(JobStatus.FailedPrechecks,
                $"kubernetes: cannot list and watch {resource} in namespace {ns} ({KubernetesApiErrors.ContextName(run.Placement.Context)}): {error ?? "no answer"}");
            if (!await jobs.WaitSyncedAsync(SyncTimeout, cancellationToken).ConfigureAwait(false))
                return Unwatchable("jobs", jobs.LastError);
            if (!await pods.WaitSyncedAsync(SyncTimeout, cancellationToken).ConfigureAwait(false))
                return Unwatchable("pods", pods.LastError);

            if (await CreateOrAdoptAsync(state, cancellationToken).ConfigureAwait(false) is { } refused)
                return refused;

            while (true)
            {
                var changed = Task.WhenAny(jobs.Changed, pods.Changed);
                if (await run.Reporter.CancelRequestedAsync(cancellationToken).ConfigureAwait(false))
                {
                    await DeleteAsync(state.Connection, state.Name, state.Namespace, cancellationToken).ConfigureAwait(false);
                    await logs.DrainAsync(LogDrain).ConfigureAwait(false);
                    return new JobRunResult(JobStatus.Cancelled, "cancelled by the user");
                }

                // Until the watch has seen the Job this run created (or adopted) it is neither running nor gone.
                var job = jobs.Get(state.Name) is { } seen && seen.Metadata.Uid == state.JobUid ? seen : null;
                var finished = job?.Status?.Conditions?.Any(c => c.Type is "Complete" or "Failed" && c.Status == "True") == true;
                // The two watches are two streams: a Job may be seen Complete before its quick pod is seen started, so
                // at the end the pods are read once more, straight from the API, for their logs and their last state.
                IEnumerable<V1Pod> current = finished
                    ? (await connection.Client.CoreV1.ListNamespacedPodAsync(ns, labelSelector: selector, cancellationToken: cancellationToken).ConfigureAwait(false)).Items
                    : pods.Items;
                var listed = current.OrderBy(p => p.Metadata.CreationTimestamp).ThenBy(p => p.Metadata.Name, StringComparer.Ordinal).ToList();
                foreach (var pod in listed.Where(ContainerStarted))
                    logs.Follow(pod.Metadata.Name);
                // Pods first: the reason a Job failed names the last failure they show.
                await state.AccountAsync(listed, finished, cancellationToken).ConfigureAwait(false);
                if ((job is null ? null : Ended(job, state)) is { } ended)
                {
                    await logs.DrainAsync(LogDrain).ConfigureAwait(false);
                    return ended;
                }

                if (state.JobUid is { } uid && jobs.WasDeleted(uid))
                {
                    // Someone else deleted the Job (and with it its pods): the work is not done, so it comes back. Like an
                    // eviction this is not the task's fault and does not count against max_restarts_on_errors.
                    await state.JobReplacedAsync($"Job {state.Name} was deleted by someone else (a preemption, not counted against max_restarts_on_errors); recreating it", cancellationToken).ConfigureAwait(false);
                    if (await CreateOrAdoptAsync(state, cancellationToken).ConfigureAwait(false) is { } again)
                        return again;
                }

                await run.Reporter.RefreshCheckpointAsync(cancellationToken).ConfigureAwait(false);
                // The next change wakes the loop at once; the interval only paces the local cancel and checkpoint checks.
                await Task.WhenAny(changed, Task.Delay(_poll, _time, cancellationToken)).ConfigureAwait(false);
                cancellationToken.ThrowIfCancellationRequested();
            }
        }
    }

    /// <inheritdoc />
    public async Task<string> AbandonAsync(JobRecord job, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        var name = TrainingJobBuilder.Name(job);
        var by = $"`kubectl delete job {name}{(job.Placement.Namespace is { } n ? $" -n {n}" : "")}{(job.Placement.Context is { } c ? $" --context {c}" : "")}`";
        ClusterConnection connection;
        try
        {
            connection = ClusterConnection.Open(job.Placement.Context, "resources.infra", _options, _time, _logger);
        }
        catch (ServiceSpecException e)
        {
            return $"could not reach the cluster to delete Job {name} ({e.Message}); delete it with {by}";
        }

        await using (connection.ConfigureAwait(false))
        {
            var ns = job.Placement.Namespace ?? connection.DefaultNamespace ?? "default";
            var where = $"Job {name} in namespace {ns}";
            using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            bounded.CancelAfter(AbandonTimeout);
            try
            {
                var existing = await connection.Client.BatchV1.ReadNamespacedJobAsync(name, ns, cancellationToken: bounded.Token).ConfigureAwait(false);
                if (!IsJobOf(existing, job))
                    return $"{where} is not this job's; left alone";
                await DeleteAsync(connection, name, ns, bounded.Token).ConfigureAwait(false);
                return $"deleted {where} and its pods";
            }
            catch (Exception e) when (KubernetesApiErrors.Is(e, HttpStatusCode.NotFound))
            {
                return $"no {where} was left";
            }
            catch (Exception e) when (e is OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                return $"the cluster did not answer within {AbandonTimeout.TotalSeconds:0} s, so {where} may still run; delete it with {by}";
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                return $"could not delete {where} ({KubernetesApiErrors.MessageOf(e)}); delete it with {by}";
            }
        }
    }

    private static bool IsJobOf(V1Job existing, JobRecord job) =>
        (existing.Metadata.Labels is { } labels && labels.TryGetValue(TrainingJobBuilder.JobLabel, out var owner) ? owner : null)
        == job.Id.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static async Task<JobRunResult?> CreateOrAdoptAsync(RunState state, CancellationToken cancellationToken)
    {
        var client = state.Connection.Client;
        try
        {
            var created = await client.BatchV1.CreateNamespacedJobAsync(TrainingJobBuilder.Build(state.Run, state.Namespace), state.Namespace, cancellationToken: cancellationToken).ConfigureAwait(false);
            state.JobUid = created.Metadata.Uid;
            return null;
        }
        catch (Exception e) when (KubernetesApiErrors.Is(e, HttpStatusCode.Conflict))
        {
            // A controller restarted after creating it: the Job is ours if it carries this job's label.
            var existing = await client.BatchV1.ReadNamespacedJobAsync(state.Name, state.Namespace, cancellationToken: cancellationToken).ConfigureAwait(false);
            if (!IsJobOf(existing, state.Run.Job))
                return new JobRunResult(JobStatus.FailedPrechecks, $"kubernetes: a Job named {state.Name} in namespace {state.Namespace} already exists and is not this job's");
            state.JobUid = existing.Metadata.Uid;
            return null;
        }
        catch (Exception e) when (KubernetesApiErrors.StatusOf(e) is not null)
        {
            return new JobRunResult(JobStatus.FailedPrechecks, KubernetesApiErrors.Describe(e, "create", "jobs", state.Namespace, state.Connection.Context).Message);
        }
    }

    private static async Task DeleteAsync(ClusterConnection connection, string name, string @namespace, CancellationToken cancellationToken)
    {
        try
        {
            // Background: the API removes the Job now and the garbage collector its pods, whose containers get their grace.
            await connection.Client.BatchV1.DeleteNamespacedJobAsync(
                name, @namespace, new V1DeleteOptions { PropagationPolicy = "Background" }, propagationPolicy: "Background", cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (KubernetesApiErrors.Is(e, HttpStatusCode.NotFound))
        {
            // Gone already.
        }
        catch (Exception e) when (KubernetesApiErrors.StatusOf(e) is not null)
        {
            throw KubernetesApiErrors.Describe(e, "delete", "jobs", @namespace, connection.Context);
        }
    }

    /// <summary>The Job's final result from its Complete or Failed condition, or null while it runs.</summary>
    private static JobRunResult? Ended(V1Job job, RunState state)
    {
        var conditions = job.Status?.Conditions ?? [];
        if (conditions.Any(c => c.Type == "Complete" && c.Status == "True"))
            return new JobRunResult(JobStatus.Succeeded, null);
        if (conditions.FirstOrDefault(c => c.Type == "Failed" && c.Status == "True") is not { } failed)
            return null;
        var max = state.Run.Spec.Recovery.MaxRestartsOnErrors;
        var reason = failed.Reason switch
        {
            "BackoffLimitExceeded" => $"{state.LastFailure ?? "the task failed"} and max_restarts_on_errors ({max}) is used up",
            "PodFailurePolicy" => TaskExitCodes.FatalReason(state.LastExitCode) ?? $"the Job failed: {failed.Message}",
            _ => $"the Job failed ({failed.Reason}): {failed.Message}",
        };
        return new JobRunResult(JobStatus.Failed, reason);
    }

    private static bool ContainerStarted(V1Pod pod) =>
        pod.Status?.ContainerStatuses?.FirstOrDefault(c => c.Name == TrainingJobBuilder.ContainerName)?.State is { } s && (s.Running is not null || s.Terminated is not null);

    /// <summary>What the runner has seen of one Job's pods: which ended how, and what was last reported.</summary>
    private sealed class RunState(JobRun run, ClusterConnection connection, string @namespace)
    {
        private readonly HashSet<string> _accounted = new(StringComparer.Ordinal);
        private readonly HashSet<string> _present = new(StringComparer.Ordinal);
        private string? _running;
        private int _relaunches;
        private int _podRelaunches;
        private int _failures;
        private readonly Queue<string> _ended = new();

        public JobRun Run { get; } = run;

        public ClusterConnection Connection { get; } = connection;

        public string Namespace { get; } = @namespace;

        public string Name { get; } = TrainingJobBuilder.Name(run.Job);

        /// <summary>The UID of the Job this run created or adopted: a same-named Job with another UID is a successor.</summary>
        public string? JobUid { get; set; }

        /// <summary>The last task failure in words (for the reason when backoffLimit is used up).</summary>
        public string? LastFailure { get; private set; }

        public int? LastExitCode { get; private set; }

        /// <summary>
        /// Records pods that ended and the pod now running. An ended pod is a relaunch once its successor exists: whether
        /// one follows is the Job controller's decision, which a poll may see before or after the pod's end.
        /// </summary>
        public async Task AccountAsync(IReadOnlyList<V1Pod> pods, bool finished, CancellationToken cancellationToken)
        {
            foreach (var pod in pods)
            {
                var name = pod.Metadata.Name;
                _present.Add(name);
                if (pod.Status?.Phase != "Failed" || !_accounted.Add(name))
                    continue;
                if (Preempted(pod) is { } taken)
                {
                    _ended.Enqueue($"pod {name} {taken} (a preemption, not counted against max_restarts_on_errors)");
                    continue;
                }

                var terminated = pod.Status.ContainerStatuses?.FirstOrDefault(c => c.Name == TrainingJobBuilder.ContainerName)?.State?.Terminated;
                _failures++;
                LastExitCode = terminated?.ExitCode;
                LastFailure = $"pod {name}: {TaskExitCodes.Describe(terminated?.ExitCode)}";
                _ended.Enqueue($"{LastFailure}; restart {_failures} of {Run.Spec.Recovery.MaxRestartsOnErrors}");
            }

            // A pod gone from the list before it ended was deleted by someone else; the Job controller replaces it.
            foreach (var gone in _present.Where(n => pods.All(p => p.Metadata.Name != n) && !_accounted.Contains(n)).ToList())
            {
                _accounted.Add(gone);
                _ended.Enqueue($"pod {gone} was deleted (a preemption, not counted against max_restarts_on_errors)");
            }

            while (_ended.Count > 0 && _podRelaunches < _present.Count - 1)
            {
                _podRelaunches++;
                await RelaunchedAsync(_ended.Dequeue(), cancellationToken).ConfigureAwait(false);
            }

            // A pod that ran and ended between two polls still ran: the job gets its RUNNING state and start time.
            var current = finished
                ? pods.LastOrDefault(p => _running is null && p.Status?.Phase is "Succeeded" or "Failed")
                : pods.FirstOrDefault(p => p.Status?.Phase == "Running" && !_accounted.Contains(p.Metadata.Name));
            if (current is not null && current.Metadata.Name != _running)
            {
                _running = current.Metadata.Name;
                await Run.Reporter.RunningAsync($"pod {_running} on node {current.Spec?.NodeName}", cancellationToken).ConfigureAwait(false);
            }
        }

        /// <summary>The Job itself was replaced: its pods went with it, and the new Job's first pod is no pod relaunch.</summary>
        public Task JobReplacedAsync(string why, CancellationToken cancellationToken)
        {
            _accounted.UnionWith(_present);
            _ended.Clear();
            _podRelaunches = _present.Count;
            return RelaunchedAsync(why, cancellationToken);
        }

        public Task RelaunchedAsync(string why, CancellationToken cancellationToken)
        {
            _running = null;
            return Run.Reporter.RecoveringAsync(++_relaunches, why, cancellationToken);
        }

        private static string? Preempted(V1Pod pod) =>
            pod.Status?.Reason == "Evicted" ? $"was evicted: {pod.Status.Message}"
            : pod.Status?.Conditions?.FirstOrDefault(c => c.Type == "DisruptionTarget" && c.Status == "True") is { } d ? $"was taken away ({d.Reason})"
            : null;
    }
}
