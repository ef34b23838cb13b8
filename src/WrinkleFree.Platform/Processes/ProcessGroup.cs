namespace WrinkleFree.Platform.Processes;

/// <summary>Stopping a whole process group: SIGTERM, a grace period, then SIGKILL to whatever is left.</summary>
public static class ProcessGroup
{
    /// <summary>Polls until no live member of <paramref name="pgid"/> is left; false when <paramref name="timeout"/> passes first.</summary>
    public static async Task<bool> WaitGoneAsync(int pgid, TimeSpan timeout, TimeSpan pollInterval, TimeProvider time, CancellationToken cancellationToken)
    {
        // Members of a group are not our children (after a restart not even the leader is), so they cannot be awaited.
        var started = time.GetTimestamp();
        while (LinuxProcess.GroupAlive(pgid))
        {
            if (time.GetElapsedTime(started) >= timeout)
            {
                return false;
            }

            await Task.Delay(pollInterval, time, cancellationToken).ConfigureAwait(false);
        }

        return true;
    }

    /// <summary>
    /// SIGTERM to group <paramref name="pgid"/>, up to <paramref name="gracePeriod"/> for it to exit, then SIGKILL and up to
    /// <paramref name="killWait"/> for the kernel to clear it (a big process needs a moment to unmap). Returns true when the
    /// group left within the grace period; <paramref name="onKill"/> runs just before a SIGKILL that was needed.
    /// </summary>
    public static async Task<bool> TerminateAsync(
        int pgid, TimeSpan gracePeriod, TimeSpan killWait, TimeSpan pollInterval, TimeProvider time, Action? onKill, CancellationToken cancellationToken)
    {
        LinuxProcess.SignalGroup(pgid, LinuxProcess.Sigterm);
        if (await WaitGoneAsync(pgid, gracePeriod, pollInterval, time, cancellationToken).ConfigureAwait(false))
        {
            return true;
        }

        onKill?.Invoke();
        LinuxProcess.SignalGroup(pgid, LinuxProcess.Sigkill);
        await WaitGoneAsync(pgid, killWait, pollInterval, time, cancellationToken).ConfigureAwait(false);
        return false;
    }
}
