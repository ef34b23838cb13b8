using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace WrinkleFree.Platform.Http;

/// <summary>
/// Loopback ports for a server that is told its port before it starts (a replica, a vLLM upstream): picked below the
/// kernel's ephemeral range. A port that bind(0) handed out is also a candidate source port for every outgoing
/// connection, and one connection opened between the pick and the child's bind (a process takes a second or more to
/// start) makes the bind fail. Ports below the range are only ever taken by name. They also stay below Kubernetes'
/// NodePort range (30000-32767): on a node, kube-proxy may redirect 127.0.0.1:NodePort to a Service whether or not
/// anything listens there.
/// </summary>
public static class LoopbackPorts
{
    /// <summary>The lowest port handed out.</summary>
    public const int First = 20000;

    /// <summary>The highest port handed out: just below Kubernetes' NodePort range.</summary>
    public const int Last = 29999;

    private const string EphemeralRangeFile = "/proc/sys/net/ipv4/ip_local_port_range";

    private static int _next = Random.Shared.Next(1 << 20);

    /// <summary>
    /// The ports handed out: <see cref="First"/> to <see cref="Last"/>, or to just below the ephemeral range when that
    /// starts lower (32768-60999 by default on Linux; read from <c>/proc/sys/net/ipv4/ip_local_port_range</c>). Null when
    /// fewer than 1000 ports remain, or the range cannot be read: then the kernel picks (bind to port 0).
    /// </summary>
    public static (int First, int Last)? Range { get; } = ReadRange(EphemeralRangeFile);

    /// <summary>
    /// A port free on 127.0.0.1 a moment ago that <paramref name="accept"/> takes (it may reserve it, and says no to a
    /// port it handed out recently).
    /// </summary>
    /// <exception cref="InvalidOperationException">Every port in the range is taken or refused.</exception>
    public static int PickUnused(Func<int, bool>? accept = null)
    {
        if (Range is not { } range)
        {
            for (var attempt = 0; attempt < 64; attempt++)
            {
                if (Bind(0) is { } port && (accept?.Invoke(port) ?? true))
                {
                    return port;
                }
            }

            throw new InvalidOperationException("no free loopback port found: 64 ports the kernel offered were all refused");
        }

        var count = range.Last - range.First + 1;
        for (var attempt = 0; attempt < count; attempt++)
        {
            var port = range.First + (int)((uint)Interlocked.Increment(ref _next) % (uint)count);
            if (Bind(port) is not null && (accept?.Invoke(port) ?? true))
            {
                return port;
            }
        }

        throw new InvalidOperationException(
            $"no free loopback port between {range.First} and {range.Last}: free some, or widen the range below the kernel's ephemeral ports ({EphemeralRangeFile})");
    }

    /// <summary>The port bound on 127.0.0.1 (0: any) and released, or null when it is taken.</summary>
    public static int? Bind(int port)
    {
        try
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            socket.Bind(new IPEndPoint(IPAddress.Loopback, port));
            return ((IPEndPoint)socket.LocalEndPoint!).Port;
        }
        catch (SocketException)
        {
            return null;
        }
    }

    internal static (int First, int Last)? ReadRange(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }

        var fields = text.Split((char[])[' ', '\t', '\n'], StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length < 1 || !int.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out var ephemeralFirst))
        {
            return null;
        }

        var last = Math.Min(Last, ephemeralFirst - 1);
        return last - First + 1 >= 1000 ? (First, last) : null;
    }
}
