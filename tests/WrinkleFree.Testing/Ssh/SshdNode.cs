using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using WrinkleFree.Providers.Ssh.Pools;

namespace WrinkleFree.Testing.Ssh;

/// <summary>
/// A real OpenSSH sshd in a network namespace of its own (or one a <see cref="SshBastion"/> made): its own ed25519 host
/// key, the test's client key and a password both accepted for the test user <see cref="PasswordUser"/> (whose shell is
/// /bin/sh: root's shell here sources a .bashrc that takes seconds, on every command and SFTP start),
/// listening on the namespace's address port 22. Tests kill and restart sshd and cut the link to model node failures;
/// disposing kills sshd and deletes the namespace.
/// </summary>
public sealed class SshdNode : IAsyncDisposable
{
    /// <summary>A dedicated test user (created once, shell /bin/sh; this machine's root password is never touched).</summary>
    public const string PasswordUser = "wftest";

    private const string FolderTag = "wf-sshd";
    private const string OwnerFile = "owner";

    private static readonly Lazy<Task<string>> TestUserPassword = new(CreateTestUserAsync);
    private static readonly Lazy<Task> SweepOnce = new(SweepStaleAsync);

    private readonly TempDirectory _folder;
    private readonly bool _ownsNamespace;
    private readonly string _config;
    private readonly List<string> _log = [];
    private Process? _sshd;

    private SshdNode(NetworkNamespace ns, bool ownsNamespace, TempDirectory folder, string config, string hostPublicKey, SshNode node, string password)
    {
        Namespace = ns;
        _ownsNamespace = ownsNamespace;
        _folder = folder;
        _config = config;
        HostPublicKey = hostPublicKey;
        Node = node;
        PasswordNode = node with { User = PasswordUser, IdentityFile = null, Password = password };
    }

    /// <summary>The namespace sshd runs in.</summary>
    public NetworkNamespace Namespace { get; }

    /// <summary>The address sshd listens on (port 22).</summary>
    public IPAddress Address => Namespace.NamespaceAddress;

    /// <summary><see cref="PasswordUser"/> with the test key (through the bastion for a private node).</summary>
    public SshNode Node { get; }

    /// <summary><see cref="PasswordUser"/> with its password, no key.</summary>
    public SshNode PasswordNode { get; }

    /// <summary>The host's public key, "ssh-ed25519 AAAA...".</summary>
    public string HostPublicKey { get; }

    /// <summary>The known_hosts line for this node.</summary>
    public string KnownHostsLine => $"{Address} {HostPublicKey}";

    /// <summary>Makes a namespace and starts sshd in it; <paramref name="keys"/> is the authorized client key.</summary>
    public static async Task<SshdNode> StartAsync(SshTestKeys keys, string pool = "test")
    {
        var ns = await NetworkNamespace.CreateAsync();
        return await StartInAsync(ns, ownsNamespace: true, keys, jump: null, pool);
    }

    /// <summary>Starts sshd in <paramref name="ns"/>; the node is reached through <paramref name="jump"/> when given.</summary>
    internal static async Task<SshdNode> StartInAsync(NetworkNamespace ns, bool ownsNamespace, SshTestKeys keys, SshNode? jump, string pool)
    {
        await SweepOnce.Value;
        var folder = new TempDirectory(FolderTag);
        SshdNode? node = null;
        try
        {
            ArgumentNullException.ThrowIfNull(keys);
            // Who owns this sshd and namespace, so a later run can clean up after a test process that was killed.
            await File.WriteAllTextAsync(Path.Combine(folder.Path, OwnerFile),
                $"{Environment.ProcessId} {StartTime(Environment.ProcessId)} {(ownsNamespace ? ns.Name : "-")}");
            var password = await TestUserPassword.Value;
            var hostKey = Path.Combine(folder.Path, "ssh_host_ed25519_key");
            await NetworkNamespace.RunAsync("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "", "-f", hostKey);
            var hostPublic = string.Join(' ', (await File.ReadAllTextAsync(hostKey + ".pub")).Trim().Split(' ').Take(2));
            var authorized = Path.Combine(folder.Path, "authorized_keys");
            await File.WriteAllTextAsync(authorized, keys.PublicKey + "\n");
            var config = Path.Combine(folder.Path, "sshd_config");
            await File.WriteAllTextAsync(config, string.Join('\n',
                $"ListenAddress {ns.NamespaceAddress}:22",
                $"HostKey {hostKey}",
                "PidFile none",
                $"AuthorizedKeysFile {authorized}",
                "PubkeyAuthentication yes",
                "PasswordAuthentication yes",
                "KbdInteractiveAuthentication no",
                "PermitRootLogin no",
                "UsePAM no",
                "StrictModes no",
                "AllowTcpForwarding yes",
                "MaxStartups 100",
                $"Subsystem sftp {SshdRequirements.SftpServer}",
                "") );
            var sshNode = new SshNode
            {
                Pool = pool,
                Host = ns.NamespaceAddress.ToString(),
                User = PasswordUser,
                IdentityFile = keys.PrivateKeyPath,
                ProxyJump = jump,
            };
            node = new SshdNode(ns, ownsNamespace, folder, config, hostPublic, sshNode, password);
            await node.StartSshdAsync();
            return node;
        }
        catch
        {
            if (node is not null)
            {
                await node.DisposeAsync();
            }
            else
            {
                folder.Dispose();
                if (ownsNamespace)
                {
                    await ns.DisposeAsync();
                }
            }

            throw;
        }
    }

    /// <summary>Starts sshd (again); returns once it listens.</summary>
    public async Task StartSshdAsync()
    {
        if (_sshd is { HasExited: false })
        {
            return;
        }

        // sshd refuses to start without its privilege separation folder; the system sshd (not running here) would make it.
        Directory.CreateDirectory("/run/sshd");
        var info = new ProcessStartInfo("ip") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var arg in (string[])["netns", "exec", Namespace.Name, SshdRequirements.Sshd, "-D", "-e", "-f", _config])
        {
            info.ArgumentList.Add(arg);
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException("cannot start sshd");
        _sshd = process;
        _ = process.StandardOutput.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        try
        {
            while (await process.StandardError.ReadLineAsync(deadline.Token) is { } line)
            {
                Record(line);
                if (line.Contains("Server listening on", StringComparison.Ordinal))
                {
                    _ = DrainAsync(process);
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"sshd in {Namespace.Name} did not start listening within 20 s: {Log}");
        }

        throw new InvalidOperationException($"sshd in {Namespace.Name} exited: {Log}");
    }

    /// <summary>Kills sshd and every session it forked, as a crashed or stopped sshd leaves the node.</summary>
    public async Task KillSshdAsync()
    {
        if (_sshd is { } sshd)
        {
            _sshd = null;
            try
            {
                sshd.Kill(entireProcessTree: true);
                await sshd.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(20));
            }
            catch (InvalidOperationException)
            {
                // Already gone.
            }

            sshd.Dispose();
        }
    }

    /// <summary>Cuts the node's link (this side of its veth down): packets to it go nowhere.</summary>
    public Task LinkDownAsync() => Namespace.SetLinkAsync(up: false);

    /// <summary>Restores the link.</summary>
    public Task LinkUpAsync() => Namespace.SetLinkAsync(up: true);

    /// <summary>What sshd logged (for failure messages).</summary>
    public string Log
    {
        get
        {
            lock (_log)
            {
                return string.Join('\n', _log);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await KillSshdAsync();
        if (_ownsNamespace)
        {
            await Namespace.DisposeAsync();
        }

        _folder.Dispose();
    }

    private async Task DrainAsync(Process process)
    {
        try
        {
            while (await process.StandardError.ReadLineAsync() is { } line)
            {
                Record(line);
            }
        }
        catch (Exception error) when (error is IOException or ObjectDisposedException or InvalidOperationException)
        {
            // sshd was killed.
        }
    }

    private void Record(string line)
    {
        lock (_log)
        {
            if (_log.Count < 2000)
            {
                _log.Add(line);
            }
        }
    }

    // One password per test run, set with chpasswd on the dedicated user only.
    private static async Task<string> CreateTestUserAsync()
    {
        try
        {
            await NetworkNamespace.RunAsync("id", PasswordUser);
        }
        catch (InvalidOperationException)
        {
            try
            {
                await NetworkNamespace.RunAsync("useradd", "--create-home", "--shell", "/bin/sh", PasswordUser);
            }
            catch (InvalidOperationException error) when (error.Message.Contains("exists", StringComparison.Ordinal))
            {
                // Another test process created it first.
            }
        }

        var password = "wf-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(12)).ToLower(CultureInfo.InvariantCulture);
        var info = new ProcessStartInfo("chpasswd") { RedirectStandardInput = true, RedirectStandardError = true, UseShellExecute = false };
        using var chpasswd = Process.Start(info) ?? throw new InvalidOperationException("cannot start chpasswd");
        await chpasswd.StandardInput.WriteLineAsync($"{PasswordUser}:{password}");
        chpasswd.StandardInput.Close();
        var stderr = await chpasswd.StandardError.ReadToEndAsync();
        await chpasswd.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        if (chpasswd.ExitCode != 0)
        {
            throw new InvalidOperationException($"chpasswd for {PasswordUser} failed: {stderr}");
        }

        return password;
    }

    // A test process killed mid-run (a timeout, a crash) never disposes its nodes: their sshd and namespace would live on.
    // Each node folder names its owner (pid and start time, so a reused pid does not count as alive) and its namespace;
    // the first node of a later run deletes the namespaces, and everything running in them, of owners that are gone.
    private static async Task SweepStaleAsync()
    {
        var root = Path.Combine(Path.GetTempPath(), FolderTag);
        if (!Directory.Exists(root))
        {
            return;
        }

        foreach (var folder in Directory.GetDirectories(root))
        {
            var owner = Path.Combine(folder, OwnerFile);
            string[] fields;
            try
            {
                fields = (await File.ReadAllTextAsync(owner)).Split(' ');
            }
            catch (Exception error) when (error is IOException or UnauthorizedAccessException)
            {
                continue;
            }

            if (fields.Length != 3 || !int.TryParse(fields[0], CultureInfo.InvariantCulture, out var pid) || StartTime(pid) == fields[1])
            {
                continue;
            }

            if (fields[2] != "-")
            {
                await KillNamespaceAsync(fields[2]);
            }

            try
            {
                Directory.Delete(folder, recursive: true);
            }
            catch (IOException)
            {
                // Deleted by another sweeping test process meanwhile.
            }
        }
    }

    private static async Task KillNamespaceAsync(string name)
    {
        string pids;
        try
        {
            pids = await NetworkNamespace.RunAsync("ip", "netns", "pids", name);
        }
        catch (InvalidOperationException)
        {
            return;
        }

        foreach (var text in pids.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            try
            {
                using var process = Process.GetProcessById(int.Parse(text, CultureInfo.InvariantCulture));
                process.Kill();
            }
            catch (Exception error) when (error is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
            {
                // Already gone.
            }
        }

        try
        {
            await NetworkNamespace.RunAsync("ip", "netns", "del", name);
        }
        catch (InvalidOperationException)
        {
            // Already deleted.
        }
    }

    /// <summary>The process's start time in clock ticks since boot (/proc/PID/stat field 22), or null when there is no such process.</summary>
    private static string? StartTime(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // The command name (field 2) may hold spaces and parentheses: count fields after its closing parenthesis.
            var rest = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return rest[19];
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException or IndexOutOfRangeException or ArgumentOutOfRangeException)
        {
            return null;
        }
    }
}
