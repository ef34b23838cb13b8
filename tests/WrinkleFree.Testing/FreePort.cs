using WrinkleFree.Platform.Http;

namespace WrinkleFree.Testing;

/// <summary>Loopback ports for tests that must name a port before the server binds it.</summary>
public static class FreePort
{
    /// <summary>
    /// A port that was free on 127.0.0.1 a moment ago and that no outgoing connection will take meanwhile: the product's
    /// own pick (<see cref="LoopbackPorts"/>), below the kernel's ephemeral range.
    /// </summary>
    public static int Next() => LoopbackPorts.PickUnused();
}
