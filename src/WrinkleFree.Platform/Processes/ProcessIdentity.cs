namespace WrinkleFree.Platform.Processes;

/// <summary>What a recorded pid names now (see <see cref="LinuxProcess.Identify"/>).</summary>
public enum ProcessIdentity
{
    /// <summary>The process that was recorded, alive.</summary>
    Same,

    /// <summary>No process has that pid.</summary>
    Gone,

    /// <summary>The pid names another process (different start time or boot).</summary>
    Reused,

    /// <summary>The recorded process has exited and not been reaped.</summary>
    Zombie,
}
