using System.Globalization;
using System.Net;
using System.Threading.Channels;
using k8s;
using k8s.Models;
using Microsoft.AspNetCore.Http;

namespace WrinkleFree.Testing.Kubernetes;

public sealed partial class KubernetesApiTestDouble
{
    private readonly Dictionary<(string Ns, string Name), PodEntry> _pods = [];
    private readonly Dictionary<(string Ns, string Resource, string Name), IKubernetesObject<V1ObjectMeta>> _objects = [];
    private readonly List<(long Version, string Ns, IDictionary<string, string>? Labels, string Line)> _history = [];
    private readonly List<Watcher> _watchers = [];
    private long _oldestWatchable;
    private int _placed;

    /// <summary>Copies of the pods of <paramref name="ns"/> as the API holds them now.</summary>
    public IReadOnlyList<V1Pod> Pods(string ns)
    {
        lock (_gate)
            return [.. _pods.Values.Where(p => p.Pod.Metadata.NamespaceProperty == ns).Select(p => Copy(p.Pod))];
    }

    /// <summary>A copy of a secret the API holds, or null.</summary>
    public V1Secret? Secret(string ns, string name)
    {
        lock (_gate)
            return _objects.GetValueOrDefault((ns, "secrets", name)) is V1Secret secret ? KubernetesJson.Deserialize<V1Secret>(KubernetesJson.Serialize(secret)) : null;
    }

    /// <summary>How many watch streams are open now.</summary>
    public int OpenWatches
    {
        get
        {
            lock (_gate)
                return _watchers.Count;
        }
    }

    /// <summary>Marks a started pod Ready (when <see cref="ReadyAfter"/> is null the kubelet waits for this).</summary>
    public void MarkReady(string ns, string name)
    {
        lock (_gate)
        {
            if (_pods.GetValueOrDefault((ns, name)) is not { Container: not null } entry || entry.Pod.Status.Phase != "Running")
                throw new InvalidOperationException($"pod {ns}/{name} has no running container to be ready");
            SetCondition(entry.Pod, "ContainersReady", "True", null);
            SetCondition(entry.Pod, "Ready", "True", null);
            entry.Pod.Status.ContainerStatuses[0].Ready = true;
            Publish(entry, "MODIFIED");
        }
    }

    /// <summary>Evicts a pod as the kubelet does under node pressure: phase Failed, reason Evicted, its container killed.</summary>
    public async Task EvictAsync(string ns, string name)
    {
        IPodContainer? container;
        lock (_gate)
        {
            var entry = _pods[(ns, name)];
            entry.Evicted = true;
            container = entry.Container;
            var status = entry.Pod.Status;
            status.Phase = "Failed";
            status.Reason = "Evicted";
            status.Message = "The node was low on resource: memory. Threshold quantity: 100Mi, available: 12Mi.";
            SetCondition(entry.Pod, "ContainersReady", "False", "PodFailed");
            SetCondition(entry.Pod, "Ready", "False", "PodFailed");
            SetCondition(entry.Pod, "DisruptionTarget", "True", "TerminationByKubelet");
            if (status.ContainerStatuses is [var cs, ..])
            {
                cs.Ready = false;
                cs.State = new V1ContainerState { Terminated = new V1ContainerStateTerminated { ExitCode = 137, Reason = "Error", FinishedAt = DateTime.UtcNow } };
            }

            Publish(entry, "MODIFIED");
        }

        if (container is not null)
            await container.StopAsync(TimeSpan.Zero);
    }

    /// <summary>
    /// Takes a node away as the node controller sees it: its pods' Ready turns False (ContainersReady stays as the kubelet
    /// last said) and port-forwards to them fail, as the kubelet no longer answers.
    /// </summary>
    public void SetNodeNotReady(string node)
    {
        lock (_gate)
        {
            _notReadyNodes.Add(node);
            foreach (var entry in _pods.Values.Where(p => p.Pod.Spec.NodeName == node))
            {
                SetCondition(entry.Pod, "Ready", "False", null);
                Publish(entry, "MODIFIED");
            }
        }
    }

    /// <summary>Deletes a pod as someone else would (kubectl delete --grace-period=0).</summary>
    public Task DeleteAsOtherAsync(string ns, string name) => RemoveAsync(ns, name, TimeSpan.Zero);

    /// <summary>Forgets the watch history and closes every watch: watches resuming from before now get 410 Gone.</summary>
    public void ExpireWatchHistory()
    {
        lock (_gate)
        {
            _oldestWatchable = _resourceVersion + 1;
            _history.Clear();
            foreach (var watcher in _watchers)
                watcher.Lines.Writer.TryComplete();
        }
    }

    private async Task ListPodsAsync(HttpContext context, string ns)
    {
        var selector = LabelSelector.Parse(context.Request.Query["labelSelector"]);
        V1PodList list;
        lock (_gate)
        {
            list = new V1PodList
            {
                ApiVersion = "v1",
                Kind = "PodList",
                Metadata = new V1ListMeta { ResourceVersion = _resourceVersion.ToString(CultureInfo.InvariantCulture) },
                Items = [.. _pods.Values.Where(p => p.Pod.Metadata.NamespaceProperty == ns && selector.Matches(p.Pod.Metadata.Labels)).OrderBy(p => p.Pod.Metadata.Name, StringComparer.Ordinal).Select(p => Copy(p.Pod))],
            };
        }

        await WriteJsonAsync(context, HttpStatusCode.OK, list);
    }

    private async Task GetPodAsync(HttpContext context, string ns, string name)
    {
        V1Pod? pod;
        lock (_gate)
            pod = _pods.GetValueOrDefault((ns, name)) is { } entry ? Copy(entry.Pod) : null;
        if (pod is null)
            await WriteStatusAsync(context, HttpStatusCode.NotFound, "NotFound", $"pods \"{name}\" not found", "pods", name);
        else
            await WriteJsonAsync(context, HttpStatusCode.OK, pod);
    }

    private async Task CreatePodAsync(HttpContext context, string ns)
    {
        var pod = await ReadBodyAsync<V1Pod>(context);
        var name = pod.Metadata?.Name;
        if (string.IsNullOrEmpty(name) || pod.Spec?.Containers is not { Count: > 0 })
        {
            await WriteStatusAsync(context, HttpStatusCode.UnprocessableEntity, "Invalid", "Pod is invalid: metadata.name and spec.containers are required", "pods", name);
            return;
        }

        var entry = AddPod(ns, pod);
        if (entry is null)
        {
            await WriteStatusAsync(context, HttpStatusCode.Conflict, "AlreadyExists", $"pods \"{name}\" already exists", "pods", name);
            return;
        }

        V1Pod created;
        lock (_gate)
            created = Copy(entry.Pod);
        await WriteJsonAsync(context, HttpStatusCode.Created, created);
        entry.Kubelet = Task.Run(() => RunKubeletAsync(entry));
    }

    /// <summary>Schedules <paramref name="pod"/> onto a node (Pending); null when the name is taken. The caller starts its kubelet.</summary>
    private PodEntry? AddPod(string ns, V1Pod pod)
    {
        lock (_gate)
        {
            if (_pods.ContainsKey((ns, pod.Metadata.Name)))
                return null;
            pod.ApiVersion = "v1";
            pod.Kind = "Pod";
            pod.Metadata.NamespaceProperty = ns;
            pod.Metadata.Uid = Guid.NewGuid().ToString();
            pod.Metadata.CreationTimestamp = DateTime.UtcNow;
            pod.Spec.NodeName = Nodes[_placed++ % Nodes.Count];
            pod.Status = new V1PodStatus
            {
                Phase = "Pending",
                QosClass = "Burstable",
                Conditions = [new V1PodCondition { Type = "PodScheduled", Status = "True", LastTransitionTime = DateTime.UtcNow }],
            };
            var entry = new PodEntry(pod);
            _pods[(ns, pod.Metadata.Name)] = entry;
            Publish(entry, "ADDED");
            return entry;
        }
    }

    private async Task DeletePodAsync(HttpContext context, string ns, string name)
    {
        V1DeleteOptions? options = null;
        if (context.Request.ContentLength is > 0 || context.Request.Headers.TransferEncoding.Count > 0)
            options = await ReadBodyAsync<V1DeleteOptions>(context);
        var graceQuery = context.Request.Query["gracePeriodSeconds"] is { Count: > 0 } g ? long.Parse(g[0]!, CultureInfo.InvariantCulture) : (long?)null;
        V1Pod? answer;
        TimeSpan grace;
        lock (_gate)
        {
            if (_pods.GetValueOrDefault((ns, name)) is not { } entry)
            {
                answer = null;
                grace = TimeSpan.Zero;
            }
            else if (options?.Preconditions?.Uid is { } uid && uid != entry.Pod.Metadata.Uid)
            {
                answer = entry.Pod;
                grace = TimeSpan.MinValue;
            }
            else
            {
                grace = TimeSpan.FromSeconds(options?.GracePeriodSeconds ?? graceQuery ?? entry.Pod.Spec.TerminationGracePeriodSeconds ?? 30);
                entry.Pod.Metadata.DeletionTimestamp ??= DateTime.UtcNow;
                entry.Pod.Metadata.DeletionGracePeriodSeconds = (long)grace.TotalSeconds;
                Publish(entry, "MODIFIED");
                answer = Copy(entry.Pod);
            }
        }

        if (answer is null)
        {
            await WriteStatusAsync(context, HttpStatusCode.NotFound, "NotFound", $"pods \"{name}\" not found", "pods", name);
            return;
        }

        if (grace == TimeSpan.MinValue)
        {
            await WriteStatusAsync(context, HttpStatusCode.Conflict, "Conflict",
                $"Operation cannot be fulfilled on Pod \"{name}\": Precondition failed: UID in precondition: {options!.Preconditions.Uid}, UID in object meta: {answer.Metadata.Uid}", "pods", name);
            return;
        }

        await WriteJsonAsync(context, HttpStatusCode.OK, answer);
        _ = Task.Run(() => RemoveAsync(ns, name, grace));
    }

    /// <summary>The kubelet's part of a deletion: stop the container within the grace period, then the pod is gone.</summary>
    private async Task RemoveAsync(string ns, string name, TimeSpan grace)
    {
        IPodContainer? container;
        lock (_gate)
        {
            if (_pods.GetValueOrDefault((ns, name)) is not { } entry)
                return;
            entry.Deleting = true;
            container = entry.Container;
        }

        if (container is not null)
        {
            await container.StopAsync(grace);
            await container.DisposeAsync();
        }

        lock (_gate)
        {
            if (!_pods.Remove((ns, name), out var entry))
                return;
            Publish(entry, "DELETED");
            // The garbage collector: what the pod owned goes with it.
            foreach (var key in _objects.Where(o => o.Value.Metadata.OwnerReferences?.Any(r => r.Uid == entry.Pod.Metadata.Uid) == true).Select(o => o.Key).ToList())
                _objects.Remove(key);
        }
    }

    private async Task RunKubeletAsync(PodEntry entry)
    {
        var pod = entry.Pod;
        var ns = pod.Metadata.NamespaceProperty;
        var secrets = (pod.Spec.Volumes ?? []).Where(v => v.Secret is not null).ToList();
        // Like the kubelet, a pod whose Secret volume does not exist yet waits for it.
        while (true)
        {
            lock (_gate)
            {
                if (entry.Deleting)
                    return;
                if (secrets.All(v => _objects.ContainsKey((ns, "secrets", v.Secret.SecretName))))
                    break;
            }

            await Task.Delay(20, _stopping.Token);
        }

        var container = pod.Spec.Containers[0];
        var folder = Directory.CreateDirectory(Path.Combine(_folder.Path, pod.Metadata.Uid)).FullName;
        var mounts = new Dictionary<string, string>(StringComparer.Ordinal);
        lock (_gate)
        {
            foreach (var volume in secrets)
            {
                var secret = (V1Secret)_objects[(ns, "secrets", volume.Secret.SecretName)];
                var target = Directory.CreateDirectory(Path.Combine(folder, volume.Name)).FullName;
                foreach (var (key, bytes) in secret.Data ?? new Dictionary<string, byte[]>())
                    File.WriteAllBytes(Path.Combine(target, key), bytes);
                foreach (var mount in (container.VolumeMounts ?? []).Where(m => m.Name == volume.Name))
                    mounts[mount.MountPath] = target;
            }
        }

        var environment = (container.Env ?? []).ToDictionary(e => e.Name, e => Remap(e.Value ?? "", mounts), StringComparer.Ordinal);
        var port = FreePort.Next();
        if (Containers is not { } runner)
            return;
        var started = runner(new PodContainerStart(Copy(pod), environment, port, folder));
        lock (_gate)
        {
            if (entry.Deleting)
            {
                _ = started.DisposeAsync().AsTask();
                return;
            }

            entry.Container = started;
            entry.LoopbackPort = port;
            var status = pod.Status;
            status.Phase = "Running";
            status.StartTime = DateTime.UtcNow;
            status.HostIP = "192.168.0." + (Nodes.ToList().IndexOf(pod.Spec.NodeName) + 10).ToString(CultureInfo.InvariantCulture);
            status.PodIP = "10.244.0." + (entry.Index % 250 + 2).ToString(CultureInfo.InvariantCulture);
            SetCondition(pod, "Initialized", "True", null);
            SetCondition(pod, "ContainersReady", "False", "ContainersNotReady");
            SetCondition(pod, "Ready", "False", "ContainersNotReady");
            status.ContainerStatuses =
            [
                new V1ContainerStatus
                {
                    Name = container.Name, Image = container.Image, ImageID = "docker.io/" + container.Image, Ready = false, RestartCount = 0, Started = true,
                    ContainerID = "containerd://" + pod.Metadata.Uid.Replace("-", "", StringComparison.Ordinal),
                    State = new V1ContainerState { Running = new V1ContainerStateRunning { StartedAt = DateTime.UtcNow } },
                },
            ];
            Publish(entry, "MODIFIED");
        }

        if (ReadyAfter is { } delay)
        {
            await Task.WhenAny(Task.Delay(delay, _stopping.Token), started.Exited);
            lock (_gate)
            {
                if (!entry.Deleting && !entry.Evicted && !started.Exited.IsCompleted && !_notReadyNodes.Contains(pod.Spec.NodeName))
                {
                    SetCondition(pod, "ContainersReady", "True", null);
                    SetCondition(pod, "Ready", "True", null);
                    pod.Status.ContainerStatuses[0].Ready = true;
                    Publish(entry, "MODIFIED");
                }
            }
        }

        var code = await started.Exited;
        lock (_gate)
        {
            if (entry.Deleting || entry.Evicted)
                return;
            pod.Status.Phase = code == 0 ? "Succeeded" : "Failed";
            SetCondition(pod, "ContainersReady", "False", "PodCompleted");
            SetCondition(pod, "Ready", "False", "PodCompleted");
            pod.Status.ContainerStatuses[0].Ready = false;
            pod.Status.ContainerStatuses[0].State = new V1ContainerState
            {
                Terminated = new V1ContainerStateTerminated { ExitCode = code, Reason = code == 0 ? "Completed" : "Error", FinishedAt = DateTime.UtcNow },
            };
            Publish(entry, "MODIFIED");
        }
    }

    private static string Remap(string value, Dictionary<string, string> mounts)
    {
        foreach (var (mount, local) in mounts)
        {
            if (value == mount || value.StartsWith(mount + "/", StringComparison.Ordinal))
                return local + value[mount.Length..];
        }

        return value;
    }

    private async Task WatchPodsAsync(HttpContext context, string ns)
    {
        var selector = LabelSelector.Parse(context.Request.Query["labelSelector"]);
        var from = context.Request.Query["resourceVersion"] is { Count: > 0 } v && long.TryParse(v[0], CultureInfo.InvariantCulture, out var parsed) ? parsed : (long?)null;
        var timeout = context.Request.Query["timeoutSeconds"] is { Count: > 0 } t ? TimeSpan.FromSeconds(int.Parse(t[0]!, CultureInfo.InvariantCulture)) : TimeSpan.FromMinutes(30);
        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/json";
        var watcher = new Watcher(ns, selector);
        var backlog = new List<string>();
        lock (_gate)
        {
            if (from is { } version && version > 0 && version < _oldestWatchable)
            {
                var gone = StatusOf(HttpStatusCode.Gone, "Expired", $"too old resource version: {version} ({_oldestWatchable})");
                backlog.Add($"{{\"type\":\"ERROR\",\"object\":{StatusJson(gone)}}}");
                // As the API server does, the stream ends after the error.
                watcher.Lines.Writer.TryComplete();
            }
            else if (from is null or 0)
            {
                backlog.AddRange(_pods.Values.Where(p => p.Pod.Metadata.NamespaceProperty == ns && selector.Matches(p.Pod.Metadata.Labels)).Select(p => EventLine("ADDED", p.Pod)));
                _watchers.Add(watcher);
            }
            else
            {
                backlog.AddRange(_history.Where(h => h.Version > from && h.Ns == ns && selector.Matches(h.Labels)).Select(h => h.Line));
                _watchers.Add(watcher);
            }
        }

        try
        {
            foreach (var line in backlog)
                await context.Response.WriteAsync(line + "\n", context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
            using var bound = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _stopping.Token);
            bound.CancelAfter(timeout);
            await foreach (var line in watcher.Lines.Reader.ReadAllAsync(bound.Token))
            {
                await context.Response.WriteAsync(line + "\n", bound.Token);
                await context.Response.Body.FlushAsync(bound.Token);
            }
        }
        catch (OperationCanceledException)
        {
            // The watch timed out, the client left, or the double stops: the stream just ends.
        }
        finally
        {
            lock (_gate)
                _watchers.Remove(watcher);
        }
    }

    /// <summary>Records a change of <paramref name="entry"/> (under the lock): a new resourceVersion, history, and every matching watch.</summary>
    private void Publish(PodEntry entry, string type)
    {
        entry.Pod.Metadata.ResourceVersion = NextVersion();
        var line = EventLine(type, entry.Pod);
        var ns = entry.Pod.Metadata.NamespaceProperty;
        var labels = entry.Pod.Metadata.Labels is { } l ? new Dictionary<string, string>(l) : null;
        _history.Add((_resourceVersion, ns, labels, line));
        foreach (var watcher in _watchers.Where(w => w.Ns == ns && w.Selector.Matches(labels)))
            watcher.Lines.Writer.TryWrite(line);
    }

    private static string EventLine(string type, V1Pod pod) => $"{{\"type\":\"{type}\",\"object\":{KubernetesJson.Serialize(pod)}}}";

    private static V1Pod Copy(V1Pod pod) => KubernetesJson.Deserialize<V1Pod>(KubernetesJson.Serialize(pod));

    private static void SetCondition(V1Pod pod, string type, string status, string? reason)
    {
        pod.Status.Conditions ??= [];
        var condition = pod.Status.Conditions.FirstOrDefault(c => c.Type == type);
        if (condition is null)
        {
            condition = new V1PodCondition { Type = type };
            pod.Status.Conditions.Add(condition);
        }

        if (condition.Status != status)
            condition.LastTransitionTime = DateTime.UtcNow;
        condition.Status = status;
        condition.Reason = reason;
    }

    private async Task CreateObjectAsync(HttpContext context, string ns, string resource)
    {
        IKubernetesObject<V1ObjectMeta> item = resource == "secrets" ? await ReadBodyAsync<V1Secret>(context) : await ReadBodyAsync<V1Service>(context);
        var name = item.Metadata.Name;
        lock (_gate)
        {
            if (!_objects.ContainsKey((ns, resource, name)))
            {
                item.Metadata.NamespaceProperty = ns;
                item.Metadata.Uid = Guid.NewGuid().ToString();
                item.Metadata.CreationTimestamp = DateTime.UtcNow;
                item.Metadata.ResourceVersion = NextVersion();
                _objects[(ns, resource, name)] = item;
                name = null;
            }
        }

        if (name is not null)
            await WriteStatusAsync(context, HttpStatusCode.Conflict, "AlreadyExists", $"{resource} \"{name}\" already exists", resource, name);
        else
            await WriteJsonAsync(context, HttpStatusCode.Created, item);
    }

    private async Task GetObjectAsync(HttpContext context, string ns, string resource, string name)
    {
        object? item;
        lock (_gate)
            item = _objects.GetValueOrDefault((ns, resource, name));
        if (item is null)
            await WriteStatusAsync(context, HttpStatusCode.NotFound, "NotFound", $"{resource} \"{name}\" not found", resource, name);
        else
            await WriteJsonAsync(context, HttpStatusCode.OK, item);
    }

    private sealed class PodEntry(V1Pod pod)
    {
        private static int _count;

        public V1Pod Pod { get; } = pod;

        public int Index { get; } = Interlocked.Increment(ref _count);

        public IPodContainer? Container { get; set; }

        public int LoopbackPort { get; set; }

        public bool Deleting { get; set; }

        public bool Evicted { get; set; }

        public Task? Kubelet { get; set; }
    }

    private sealed class Watcher(string ns, LabelSelector selector)
    {
        public string Ns { get; } = ns;

        public LabelSelector Selector { get; } = selector;

        public Channel<string> Lines { get; } = Channel.CreateUnbounded<string>();
    }
}
