namespace WrinkleFree.Testing.Ssh;

/// <summary>What the real-sshd tests need from the machine: root (namespaces, veths, a test user), <c>ip netns</c> and OpenSSH's sshd.</summary>
public static class SshdRequirements
{
    /// <summary>OpenSSH's server binary (Debian's openssh-server, installed by .ci/run).</summary>
    public const string Sshd = "/usr/sbin/sshd";

    /// <summary>OpenSSH's SFTP server, which the test sshd runs as its sftp subsystem.</summary>
    public const string SftpServer = "/usr/lib/openssh/sftp-server";

    private static readonly Lazy<string?> LazyMissing = new(Check);

    /// <summary>Why the tests cannot run here, or null when they can.</summary>
    public static string? Missing => LazyMissing.Value;

    private static string? Check()
    {
        if (!OperatingSystem.IsLinux())
        {
            return "SKIPPED: the sshd tests need Linux network namespaces";
        }

        if (Environment.UserName != "root")
        {
            return "SKIPPED: the sshd tests need root (network namespaces, veth pairs, a test user); run them as root as CI does";
        }

        if (!File.Exists(Sshd) || !File.Exists(SftpServer))
        {
            return $"SKIPPED: {Sshd} or {SftpServer} is missing; install Debian's openssh-server (.ci/run does)";
        }

        try
        {
            NetworkNamespace.RunAsync("ip", "netns", "list").GetAwaiter().GetResult();
        }
        catch (Exception error) when (error is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            return $"SKIPPED: `ip netns` does not work here ({error.Message}); install iproute2 and allow network namespaces";
        }

        return null;
    }
}
