using System.Buffers;

namespace WrinkleFree.Service.LoadBalancing;

/// <summary>
/// The replicas the balancer knows, as an immutable array of routable destinations swapped atomically on every update,
/// plus a signal that completes on each change so requests waiting for a first replica wake at once.
/// </summary>
internal sealed class ReplicaSet(ILoadBalancingPolicy policy, TimeProvider time, TimeSpan cooldown)
{
    private readonly Lock _lock = new();
    private ILoadBalancingPolicy _policy = policy;
    private readonly Dictionary<string, Destination> _known = new(StringComparer.Ordinal);
    private readonly long _cooldownTicks = (long)(cooldown.TotalSeconds * time.TimestampFrequency);
    private Destination[] _routable = [];
    private TaskCompletionSource _changed = NewSignal();
    private volatile bool _scalingUp;

    /// <summary>The policy choosing among routable replicas; swapped whole, so a request sees the old or the new one.</summary>
    public ILoadBalancingPolicy Policy
    {
        get => Volatile.Read(ref _policy);
        set => Volatile.Write(ref _policy, value);
    }

    /// <summary>The routable destinations, in the controller's order.</summary>
    public Destination[] Routable => Volatile.Read(ref _routable);

    /// <summary>Completes at the next change of replicas or of <see cref="ScalingUp"/>; read it before looking for a replica.</summary>
    public Task Changed => Volatile.Read(ref _changed).Task;

    public bool ScalingUp
    {
        get => _scalingUp;
        set
        {
            _scalingUp = value;
            Signal();
        }
    }

    /// <summary>Replaces the replica list; returns the number of routable replicas.</summary>
    public int Update(IReadOnlyList<ReplicaEndpoint> replicas)
    {
        // Check the whole list first: a bad entry must leave the previous snapshot untouched, not half-applied.
        var listed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var replica in replicas)
        {
            if (!listed.Add(replica.Id))
            {
                throw new ArgumentException($"replica id '{replica.Id}' is listed twice", nameof(replicas));
            }

            if (!replica.Url.IsAbsoluteUri || (replica.Url.Scheme != Uri.UriSchemeHttp && replica.Url.Scheme != Uri.UriSchemeHttps))
            {
                throw new ArgumentException($"replica '{replica.Id}' has URL '{replica.Url}', which is not an absolute http(s) URL", nameof(replicas));
            }
        }

        lock (_lock)
        {
            var routable = new List<Destination>(replicas.Count);
            foreach (var replica in replicas)
            {
                var prefix = replica.Url.GetLeftPart(UriPartial.Path).TrimEnd('/');
                if (!_known.TryGetValue(replica.Id, out var destination))
                {
                    destination = new Destination(replica.Id, prefix);
                    _known.Add(replica.Id, destination);
                }

                destination.Prefix = prefix;
                destination.Listed = true;
                if (!replica.Ready || replica.Lost)
                {
                    destination.ClearDraining();
                }

                // A replica that answered "draining" stays out while the controller still calls it ready: its probe has
                // not seen /health draining yet.
                var ready = replica.Ready && !destination.Draining;
                var wasRoutable = destination.SetRoutable(ready && !replica.Lost);
                if (replica.Lost)
                {
                    destination.MarkLost();
                    continue;
                }

                if (ready)
                {
                    // The controller re-adding a replica (not ready or absent before) overrides passive health.
                    if (!wasRoutable)
                    {
                        destination.ClearSuspension();
                    }

                    routable.Add(destination);
                }
            }

            foreach (var destination in _known.Values)
            {
                if (!listed.Contains(destination.Id))
                {
                    destination.Listed = false;
                    destination.ClearDraining();
                    destination.SetRoutable(false);
                }
            }

            PurgeUnlisted();
            Volatile.Write(ref _routable, routable.ToArray());
            Signal();
            return routable.Count;
        }
    }

    /// <summary>
    /// Chooses a routable replica not in <paramref name="exclude"/> and counts the request on it; null when there is none.
    /// Passively suspended replicas are used only when every other candidate is gone. <paramref name="prefixKey"/> is the
    /// request's prompt key (<see cref="PromptPrefixKey"/>), used by policies that route by prompt.
    /// </summary>
    public Destination? Acquire(ReadOnlySpan<Destination?> exclude, ulong? prefixKey = null)
    {
        // A replica can stop being routable between the choice and the count; choose again from the newer snapshot.
        for (var round = 0; round < 8; round++)
        {
            var destination = Choose(Routable, exclude, prefixKey);
            if (destination is null)
            {
                return null;
            }

            if (destination.TryAcquire())
            {
                return destination;
            }
        }

        return null;
    }

    /// <summary>Takes a replica out of rotation for the cooldown after a transport failure.</summary>
    public void Suspend(Destination destination) => destination.Suspend(time.GetTimestamp() + _cooldownTicks);

    /// <summary>
    /// Takes a replica that answered "draining" out of rotation at once, until the controller lists it as not ready; its
    /// in-flight requests go on. Returns whether it was in rotation until now.
    /// </summary>
    public bool Drain(Destination destination)
    {
        lock (_lock)
        {
            if (!destination.MarkDraining())
            {
                return false;
            }

            // Cleared first, so a request that chose it from the old snapshot fails TryAcquire and chooses again.
            destination.SetRoutable(false);
            Volatile.Write(ref _routable, Array.FindAll(Routable, d => !ReferenceEquals(d, destination)));
            Signal();
            return true;
        }
    }

    /// <summary>In-flight counts of every listed replica and of unlisted ones still draining.</summary>
    public IReadOnlyDictionary<string, int> GetInFlight()
    {
        lock (_lock)
        {
            PurgeUnlisted();
            var counts = new Dictionary<string, int>(_known.Count, StringComparer.Ordinal);
            foreach (var destination in _known.Values)
            {
                counts[destination.Id] = destination.InFlight;
            }

            return counts;
        }
    }

    public bool IsSuspended(string id)
    {
        lock (_lock)
        {
            return _known.TryGetValue(id, out var destination) && destination.IsSuspended(time.GetTimestamp());
        }
    }

    private Destination? Choose(Destination[] routable, ReadOnlySpan<Destination?> exclude, ulong? prefixKey)
    {
        if (routable.Length == 0)
        {
            return null;
        }

        var now = time.GetTimestamp();
        var candidates = ArrayPool<Destination>.Shared.Rent(routable.Length);
        // Loads are read once into a span so the policy sees a consistent picture while counts keep moving.
        Span<int> loads = routable.Length <= 256 ? stackalloc int[routable.Length] : new int[routable.Length];
        try
        {
            var count = Collect(routable, exclude, now, skipSuspended: true, candidates, loads);
            if (count == 0)
            {
                count = Collect(routable, exclude, now, skipSuspended: false, candidates, loads);
            }

            if (count == 0)
            {
                return null;
            }

            var policy = Policy;
            return prefixKey is { } key && policy is IPrefixAffinityPolicy affinity
                ? candidates[PickByKey(affinity, candidates, loads[..count], key)]
                : candidates[policy.Pick(loads[..count])];
        }
        finally
        {
            ArrayPool<Destination>.Shared.Return(candidates, clearArray: true);
        }
    }

    private static int PickByKey(IPrefixAffinityPolicy policy, Destination[] candidates, ReadOnlySpan<int> loads, ulong key)
    {
        var ids = ArrayPool<string>.Shared.Rent(loads.Length);
        try
        {
            for (var i = 0; i < loads.Length; i++)
            {
                ids[i] = candidates[i].Id;
            }

            return policy.Pick(ids.AsSpan(0, loads.Length), loads, key);
        }
        finally
        {
            ArrayPool<string>.Shared.Return(ids, clearArray: true);
        }
    }

    private static int Collect(Destination[] routable, ReadOnlySpan<Destination?> exclude, long now, bool skipSuspended, Destination[] candidates, Span<int> loads)
    {
        var count = 0;
        foreach (var destination in routable)
        {
            if ((skipSuspended && destination.IsSuspended(now)) || IsExcluded(exclude, destination))
            {
                continue;
            }

            candidates[count] = destination;
            loads[count] = destination.InFlight;
            count++;
        }

        return count;
    }

    private static bool IsExcluded(ReadOnlySpan<Destination?> exclude, Destination destination)
    {
        foreach (var excluded in exclude)
        {
            if (ReferenceEquals(excluded, destination))
            {
                return true;
            }
        }

        return false;
    }

    // Unlisted destinations are kept while requests are in flight on them: the controller drains a replica by
    // watching its count reach zero. Acquire cannot raise a count once the replica is unroutable, so zero stays zero.
    private void PurgeUnlisted()
    {
        List<string>? gone = null;
        foreach (var destination in _known.Values)
        {
            if (!destination.Listed && destination.InFlight == 0)
            {
                (gone ??= []).Add(destination.Id);
            }
        }

        if (gone is not null)
        {
            foreach (var id in gone)
            {
                _known.Remove(id);
            }
        }
    }

    private void Signal()
    {
        var previous = Interlocked.Exchange(ref _changed, NewSignal());
        previous.TrySetResult();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
