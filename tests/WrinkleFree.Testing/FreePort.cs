using System.Net;
using System.Net.Sockets;

namespace WrinkleFree.Testing;

/// <summary>Loopback ports for tests that must name a port before the server binds it.</summary>
public static class FreePort
{
    /// <summary>A port that was free on 127.0.0.1 a moment ago (the OS picks it, so parallel tests rarely collide).</summary>
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
