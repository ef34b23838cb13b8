namespace WrinkleFree.Service.LoadBalancing;

/// <summary>
/// One replica's live routing state: where it is, whether it takes new requests, its in-flight count and its passive
/// health. The object lives as long as the replica id is known or still has requests in flight, so counts survive churn.
/// </summary>
internal sealed class Destination(string id, string prefix)
{
    private int _inFlight;
    private int _routable;
    private long _suspendedUntil;
    private int _draining;
    private volatile string _prefix = prefix;
    private readonly CancellationTokenSource _lost = new();

    public string Id { get; } = id;

    /// <summary>The replica's base URL without a trailing slash, as YARP's forwarder wants it.</summary>
    public string Prefix
    {
        get => _prefix;
        set => _prefix = value;
    }

    public int InFlight => Volatile.Read(ref _inFlight);

    public bool Routable => Volatile.Read(ref _routable) == 1;

    /// <summary>Set and read under <see cref="ReplicaSet"/>'s lock only: whether the controller still lists the id.</summary>
    public bool Listed { get; set; }

    /// <summary>Marks the replica (un)routable; returns whether it was routable before.</summary>
    // Interlocked (a full fence) pairs with the one in TryAcquire: a request either sees the flag cleared or its
    // increment is seen by whoever clears it, so a replica taken out never gets an uncounted request.
    public bool SetRoutable(bool routable) => Interlocked.Exchange(ref _routable, routable ? 1 : 0) == 1;

    /// <summary>Counts a request in; fails (counting nothing) when the replica stopped being routable meanwhile.</summary>
    public bool TryAcquire()
    {
        Interlocked.Increment(ref _inFlight);
        if (Volatile.Read(ref _routable) == 1)
        {
            return true;
        }

        Interlocked.Decrement(ref _inFlight);
        return false;
    }

    public void Release() => Interlocked.Decrement(ref _inFlight);

    public bool IsSuspended(long now) => now < Volatile.Read(ref _suspendedUntil);

    public void Suspend(long until) => Volatile.Write(ref _suspendedUntil, until);

    public void ClearSuspension() => Volatile.Write(ref _suspendedUntil, 0);

    /// <summary>
    /// The replica refused a request because it drains (shutdown or a spot interruption notice): it takes no new requests
    /// until the controller, whose probe sees /health draining too, lists it as not ready.
    /// </summary>
    public bool Draining => Volatile.Read(ref _draining) == 1;

    /// <summary>Marks the replica draining; returns whether it was not already.</summary>
    public bool MarkDraining() => Interlocked.Exchange(ref _draining, 1) == 0;

    /// <summary>The controller caught up (not ready or gone): a later "ready" from it is believed again.</summary>
    public void ClearDraining() => Volatile.Write(ref _draining, 0);

    /// <summary>Cancelled once the controller says the replica is lost; attempts on it that have no answer yet end.</summary>
    public CancellationToken LostToken => _lost.Token;

    /// <summary>Ends the unanswered attempts on the replica (once; ids are never reused, so it stays lost).</summary>
    // The source is never disposed: a token that attempts may still link to must stay usable, and cancelling it
    // allocates nothing that outlives the destination.
    public void MarkLost()
    {
        if (!_lost.IsCancellationRequested)
        {
            _lost.Cancel();
        }
    }
}
