namespace WrinkleFree.Providers.Ssh.Nodes;

/// <summary>What installing one file did.</summary>
public enum InstallOutcome
{
    /// <summary>The node already had the file with the same SHA-256: nothing was sent.</summary>
    Skipped,

    /// <summary>The whole file was sent.</summary>
    Uploaded,

    /// <summary>An interrupted upload (<c>PATH.part</c>) was continued from where it stopped.</summary>
    Resumed,
}
