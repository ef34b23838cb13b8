namespace WrinkleFree.Service.Spec;

/// <summary>One port or an inclusive range of ports, as SkyPilot writes them (<c>8080</c> or <c>10000-10100</c>).</summary>
public readonly record struct PortRange(int Start, int End)
{
    /// <summary>A single port.</summary>
    public static PortRange Single(int port) => new(port, port);

    /// <summary>SkyPilot's spelling: <c>8080</c> or <c>10000-10100</c>.</summary>
    public override string ToString() => Start == End
        ? Start.ToString(System.Globalization.CultureInfo.InvariantCulture)
        : string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{Start}-{End}");
}
