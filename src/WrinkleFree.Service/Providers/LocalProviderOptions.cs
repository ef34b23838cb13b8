namespace WrinkleFree.Service.Providers;

/// <summary>Settings of the local provider; <see cref="Home"/> is the WrinkleFree home (logs go to logs/SERVICE/ID.log).</summary>
public sealed record LocalProviderOptions
{
    public required string Home { get; init; }

    /// <summary>The shell that runs <c>run</c> scripts.</summary>
    public string Shell { get; init; } = "/bin/sh";

    /// <summary>How often stops and log follows look again.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>How long to wait for SIGKILLed processes to disappear before giving up.</summary>
    public TimeSpan KillWait { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Checks the options once; throws <see cref="ArgumentException"/> naming the bad field.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Home))
        {
            throw new ArgumentException("home must be a folder", nameof(Home));
        }

        if (PollInterval <= TimeSpan.Zero || KillWait <= TimeSpan.Zero)
        {
            throw new ArgumentException("poll interval and kill wait must be positive", nameof(PollInterval));
        }
    }
}
