namespace WrinkleFree.Service.LoadBalancing;

/// <summary>
/// Sends requests whose prompts start alike to the same replica, where its prefix cache already holds their keys and
/// values: consistent hashing over a ring of virtual nodes, with bounded loads (a replica already at
/// ceil((1 + epsilon) x average in-flight) is passed over for the next one on the ring, so a hot prefix spreads instead of
/// overrunning one replica). Requests without a prompt key go to the least-loaded replica.
/// </summary>
internal sealed class PrefixAffinityPolicy(double epsilon = PrefixAffinityPolicy.DefaultEpsilon, int virtualNodes = PrefixAffinityPolicy.DefaultVirtualNodes,
    int prefixBytes = PrefixAffinityPolicy.DefaultPrefixBytes) : ILoadBalancingPolicy, IPrefixAffinityPolicy
{
    /// <summary>Load slack over the average; 0.25 is the value of the bounded-loads paper's production experiments.</summary>
    public const double DefaultEpsilon = 0.25;

    /// <summary>Points per replica: enough that each replica's share of keys stays within a few percent of 1/n.</summary>
    public const int DefaultVirtualNodes = 128;

    /// <summary>
    /// About one KV page of text. Requests that share this much share a replica, and with it every longer common prefix
    /// they have (a tenant's whole system prompt, a conversation's history). Much longer would split a tenant's traffic
    /// whenever its system prompt is shorter than the key, since the user's words would then be part of it.
    /// </summary>
    public const int DefaultPrefixBytes = 256;

    private readonly LeastRequestsPolicy _fallback = new();
    private Ring? _ring;

    public string Name => LoadBalancingPolicyNames.PrefixAffinity;

    public int PrefixBytes => prefixBytes;

    public int Pick(ReadOnlySpan<int> inFlight) => _fallback.Pick(inFlight);

    public int Pick(ReadOnlySpan<string> ids, ReadOnlySpan<int> inFlight, ulong key)
    {
        if (ids.Length == 1)
        {
            return 0;
        }

        var ring = RingFor(ids);
        // Map ring slots to this call's candidate indexes (the candidates' order is the controller's, not the ring's).
        Span<int> slotToCandidate = ids.Length <= 256 ? stackalloc int[ids.Length] : new int[ids.Length];
        for (var i = 0; i < ids.Length; i++)
        {
            slotToCandidate[ring.Slots[ids[i]]] = i;
        }

        long total = 1;
        foreach (var load in inFlight)
        {
            total += load;
        }

        var capacity = (int)Math.Ceiling((1 + epsilon) * total / ids.Length);
        var points = ring.Points;
        var start = LowerBound(points, key);
        for (var step = 0; step < points.Length; step++)
        {
            var point = points[(start + step) % points.Length];
            var candidate = slotToCandidate[point.Slot];
            if (inFlight[candidate] < capacity)
            {
                return candidate;
            }
        }

        // Unreachable while capacity exceeds the average, but a policy must always answer.
        return _fallback.Pick(inFlight);
    }

    /// <summary>The ring of the candidate set, rebuilt only when the set changes (replicas come and go rarely).</summary>
    private Ring RingFor(ReadOnlySpan<string> ids)
    {
        var ring = Volatile.Read(ref _ring);
        if (ring is not null && ring.Matches(ids))
        {
            return ring;
        }

        ring = Ring.Build(ids, virtualNodes);
        Volatile.Write(ref _ring, ring);
        return ring;
    }

    private static int LowerBound(Point[] points, ulong key)
    {
        int lo = 0, hi = points.Length;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (points[mid].Hash < key)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo == points.Length ? 0 : lo;
    }

    private readonly record struct Point(ulong Hash, int Slot);

    /// <summary>An immutable ring: points sorted by hash, each naming a slot; slots are the replica ids.</summary>
    private sealed class Ring(Dictionary<string, int> slots, Point[] points)
    {
        public Dictionary<string, int> Slots { get; } = slots;

        public Point[] Points { get; } = points;

        public bool Matches(ReadOnlySpan<string> ids)
        {
            if (ids.Length != Slots.Count)
            {
                return false;
            }

            foreach (var id in ids)
            {
                if (!Slots.ContainsKey(id))
                {
                    return false;
                }
            }

            return true;
        }

        public static Ring Build(ReadOnlySpan<string> ids, int virtualNodes)
        {
            var slots = new Dictionary<string, int>(ids.Length, StringComparer.Ordinal);
            var points = new Point[ids.Length * virtualNodes];
            for (var i = 0; i < ids.Length; i++)
            {
                slots.Add(ids[i], i);
                for (var v = 0; v < virtualNodes; v++)
                {
                    // A point depends on the replica id alone, so adding or removing a replica moves only its own arcs.
                    points[i * virtualNodes + v] = new Point(PromptPrefixKey.HashText(ids[i] + "#" + v.ToString(System.Globalization.CultureInfo.InvariantCulture)), i);
                }
            }

            Array.Sort(points, static (a, b) => a.Hash.CompareTo(b.Hash));
            return new Ring(slots, points);
        }
    }
}
