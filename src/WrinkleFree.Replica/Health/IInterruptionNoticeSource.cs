namespace WrinkleFree.Replica.Health;

/// <summary>One cloud's way of asking its instance metadata service whether a spot interruption is coming.</summary>
internal interface IInterruptionNoticeSource
{
    /// <summary>aws or gcp, as <see cref="ReplicaOptions.InterruptionNotice"/> names it.</summary>
    string Cloud { get; }

    /// <summary>The metadata service's base URL, for log lines.</summary>
    Uri BaseUrl { get; }

    /// <summary>
    /// Asks once (a long poll may wait for a change); null while no notice is out. Throws <see cref="HttpRequestException"/>
    /// or <see cref="TimeoutException"/> when the metadata service cannot be reached or answers something unexpected.
    /// </summary>
    Task<InterruptionNotice?> CheckAsync(CancellationToken cancellationToken);
}
