using System.Diagnostics;
using System.Globalization;
using System.Net;

namespace WrinkleFree.Testing;

/// <summary>
/// A Linux network namespace made for one test (root only): a veth pair from this namespace to it on a private /24,
/// with <see cref="NamespaceAddress"/> inside and <see cref="HostAddress"/> (plus any extra addresses) outside, so
/// tests can reach a process in it, from chosen source addresses, without touching any other network. Disposing
/// deletes it (and its end of the veth, which takes the other end with it).
/// </summary>
public sealed class NetworkNamespace : IAsyncDisposable
{
    private readonly List<Process> _processes = [];

    private NetworkNamespace(string name, string hostInterface, string subnet, NetworkNamespace? parent = null)
    {
        Name = name;
        HostInterface = hostInterface;
        Subnet = subnet;
        Parent = parent;
    }

    /// <summary>
    /// The namespace holding <see cref="HostInterface"/> when this one hangs behind another (see <see cref="CreateBehindAsync"/>);
    /// null when it is linked to this (the host's) namespace.
    /// </summary>
    public NetworkNamespace? Parent { get; }

    /// <summary>The namespace's name (<c>ip netns exec NAME ...</c>).</summary>
    public string Name { get; }

    /// <summary>This namespace's end of the veth pair.</summary>
    public string HostInterface { get; }

    private string Subnet { get; }

    /// <summary>The address inside the namespace (x.y.z.2).</summary>
    public IPAddress NamespaceAddress => Address(2);

    /// <summary>The first address on this side (x.y.z.1).</summary>
    public IPAddress HostAddress => Address(1);

    /// <summary>Address <paramref name="host"/> of the namespace's /24.</summary>
    public IPAddress Address(int host) => IPAddress.Parse(Subnet + "." + host.ToString(CultureInfo.InvariantCulture));

    /// <summary>Creates the namespace with the veth pair up, loopback up inside, and <paramref name="extraHostAddresses"/> more host-side addresses (x.y.z.3, .4...).</summary>
    public static async Task<NetworkNamespace> CreateAsync(int extraHostAddresses = 0)
    {
        var id = Random.Shared.Next(0x1000, 0xFFFF);
        var name = "wft" + id.ToString("x", CultureInfo.InvariantCulture);
        // 10.200-254.x.0/24 at random: a range real networks here do not use, and unlikely to meet another test's.
        var subnet = string.Create(CultureInfo.InvariantCulture, $"10.{200 + Random.Shared.Next(55)}.{Random.Shared.Next(256)}");
        var ns = new NetworkNamespace(name, "v" + name, subnet);
        try
        {
            await RunAsync("ip", "netns", "add", name);
            await RunAsync("ip", "link", "add", ns.HostInterface, "type", "veth", "peer", "name", "eth0", "netns", name);
            await RunAsync("ip", "addr", "add", subnet + ".1/24", "dev", ns.HostInterface);
            for (var i = 0; i < extraHostAddresses; i++)
                await RunAsync("ip", "addr", "add", ns.Address(3 + i) + "/24", "dev", ns.HostInterface);
            await RunAsync("ip", "link", "set", ns.HostInterface, "up");
            await ns.ExecAsync("ip", "addr", "add", subnet + ".2/24", "dev", "eth0");
            await ns.ExecAsync("ip", "link", "set", "eth0", "up");
            await ns.ExecAsync("ip", "link", "set", "lo", "up");
            return ns;
        }
        catch
        {
            await ns.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Creates a namespace linked only to <paramref name="parent"/> (a private network behind it): the veth pair runs
    /// from the parent namespace (x.y.z.1, <see cref="HostInterface"/>, in the parent) to the new one (x.y.z.2). Nothing
    /// routes it to this machine's namespace; the parent forwards nothing unless told to (a new namespace's ip_forward is 0).
    /// </summary>
    public static async Task<NetworkNamespace> CreateBehindAsync(NetworkNamespace parent)
    {
        ArgumentNullException.ThrowIfNull(parent);
        var id = Random.Shared.Next(0x1000, 0xFFFF);
        var name = "wft" + id.ToString("x", CultureInfo.InvariantCulture);
        var subnet = string.Create(CultureInfo.InvariantCulture, $"10.{200 + Random.Shared.Next(55)}.{Random.Shared.Next(256)}");
        var ns = new NetworkNamespace(name, "p" + name, subnet, parent);
        try
        {
            await RunAsync("ip", "netns", "add", name);
            await parent.ExecAsync("ip", "link", "add", ns.HostInterface, "type", "veth", "peer", "name", "eth0", "netns", name);
            await parent.ExecAsync("ip", "addr", "add", subnet + ".1/24", "dev", ns.HostInterface);
            await parent.ExecAsync("ip", "link", "set", ns.HostInterface, "up");
            await ns.ExecAsync("ip", "addr", "add", subnet + ".2/24", "dev", "eth0");
            await ns.ExecAsync("ip", "link", "set", "eth0", "up");
            await ns.ExecAsync("ip", "link", "set", "lo", "up");
            return ns;
        }
        catch
        {
            await ns.DisposeAsync();
            throw;
        }
    }

    /// <summary>Sets <see cref="HostInterface"/> (this side of the veth, in the parent when there is one) down or up: the link is cut or restored.</summary>
    public Task SetLinkAsync(bool up)
    {
        string[] command = ["ip", "link", "set", HostInterface, up ? "up" : "down"];
        return Parent is { } parent ? parent.ExecAsync(command) : RunAsync(command);
    }

    /// <summary>Runs <paramref name="args"/> inside the namespace to completion; throws with its stderr when it fails.</summary>
    public Task<string> ExecAsync(params string[] args) => RunAsync(["ip", "netns", "exec", Name, .. args]);

    /// <summary>Starts <paramref name="args"/> inside the namespace and returns once a line of its stdout contains <paramref name="readyText"/>; killed at dispose.</summary>
    public async Task<Process> StartAsync(string readyText, TimeSpan deadline, params string[] args)
    {
        var info = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in (string[])["netns", "exec", Name, .. args])
            info.ArgumentList.Add(a);
        var process = Process.Start(info) ?? throw new InvalidOperationException("cannot start ip netns exec");
        _processes.Add(process);
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(deadline);
        try
        {
            while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
            {
                if (line.Contains(readyText, StringComparison.Ordinal))
                {
                    _ = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
                    return process;
                }
            }
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"{string.Join(' ', args)} in namespace {Name} did not print '{readyText}' within {deadline}");
        }

        throw new InvalidOperationException($"{string.Join(' ', args)} in namespace {Name} exited: {await stderr}");
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var process in _processes)
        {
            try
            {
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                    await process.WaitForExitAsync();
                }
            }
            catch (InvalidOperationException)
            {
                // Already gone.
            }

            process.Dispose();
        }

        try
        {
            await RunAsync("ip", "netns", "del", Name);
        }
        catch (InvalidOperationException)
        {
            // Never created, or already deleted.
        }
    }

    /// <summary>Runs a command to completion (60 s at most); throws <see cref="InvalidOperationException"/> with its stderr when it fails.</summary>
    public static async Task<string> RunAsync(params string[] args)
    {
        var info = new ProcessStartInfo(args[0]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args.Skip(1))
            info.ArgumentList.Add(a);
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"cannot start {args[0]}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(deadline.Token);
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{string.Join(' ', args)} exited {process.ExitCode}: {(await stderr).Trim()}");
        return await stdout;
    }
}
