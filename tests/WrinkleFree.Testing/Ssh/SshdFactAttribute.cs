namespace WrinkleFree.Testing.Ssh;

/// <summary>A fact that needs a real sshd in network namespaces; skipped, with the reason, only where the machine cannot run one.</summary>
public sealed class SshdFactAttribute : FactAttribute
{
    public SshdFactAttribute()
    {
        if (SshdRequirements.Missing is { } reason)
        {
            Skip = reason;
        }
    }
}
