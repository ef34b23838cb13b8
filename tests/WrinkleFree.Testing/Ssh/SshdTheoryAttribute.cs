namespace WrinkleFree.Testing.Ssh;

/// <summary>A theory that needs a real sshd in network namespaces; skipped, with the reason, only where the machine cannot run one.</summary>
public sealed class SshdTheoryAttribute : TheoryAttribute
{
    public SshdTheoryAttribute()
    {
        if (SshdRequirements.Missing is { } reason)
        {
            Skip = reason;
        }
    }
}
