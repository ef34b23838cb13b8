using System.Net;
using System.Net.Sockets;

namespace WrinkleFree.Testing;

/// <summary>Loopback ports for tests that must name a port before the server binds it.</summary>
public static class FreePort
{
    // Below Linux's ephemeral range (32768-60999 by default): a port the OS handed out for bind(0) is also a candidate
    // for the source port of every outgoing connection, and one such connection opened between the pick and the server's
    // bind (a child process takes a second to start) makes the bind fail. Ports here are only ever named explicitly.
    private const int First = 20000;
    private const int Last = 32767;
    private static int _next = First + Random.Shared.Next(Last - First);

    /// <summary>A port that was free on 127.0.0.1 a moment ago and that no outgoing connection will take meanwhile.</summary>
    public static int Next()
    {
        for (var attempt = 0; attempt < Last - First; attempt++)
        {
            var port = First + (int)((uint)Interlocked.Increment(ref _next) % (Last - First));
            try
            {
                using var listener = new TcpListener(IPAddress.Loopback, port);
                listener.Start();
                return port;
            }
            catch (SocketException)
            {
                // Taken: the next one.
            }
        }

        throw new InvalidOperationException($"no free loopback port between {First} and {Last}");
    }
}
