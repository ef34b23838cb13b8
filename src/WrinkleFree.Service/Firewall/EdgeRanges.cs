using System.Net;
using System.Net.Sockets;

namespace WrinkleFree.Service.Firewall;

/// <summary>
/// Address ranges a firewall lets in: a named edge's published list (kept as data in the assembly, with the date it was
/// recorded), a CIDR, a single address, or <c>@FILE</c> with one of those per line.
/// </summary>
public sealed record EdgeRanges
{
    /// <summary>The edges known by name.</summary>
    public static readonly IReadOnlyList<string> KnownEdges = ["cloudflare"];

    /// <summary>What the ranges came from, for the rules' comments (<c>cloudflare (recorded 2026-12-05)</c>, a file, CIDRs).</summary>
    public required IReadOnlyList<string> Sources { get; init; }

    /// <summary>IPv4 networks.</summary>
    public required IReadOnlyList<IPNetwork> V4 { get; init; }

    /// <summary>IPv6 networks.</summary>
    public required IReadOnlyList<IPNetwork> V6 { get; init; }

    /// <summary>No address at all.</summary>
    public bool IsEmpty => V4.Count == 0 && V6.Count == 0;

    /// <summary>
    /// Parses each of <paramref name="entries"/> (an edge name, CIDR, address or <c>@FILE</c>); throws
    /// <see cref="ArgumentException"/> naming the entry (and the file and line) that is none of those.
    /// </summary>
    public static EdgeRanges Parse(IEnumerable<string> entries, string option)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var sources = new List<string>();
        var networks = new List<IPNetwork>();
        foreach (var entry in entries)
        {
            var text = entry.Trim();
            if (KnownEdges.Contains(text, StringComparer.OrdinalIgnoreCase))
            {
                var (recorded, list) = Published(text.ToLowerInvariant());
                sources.Add($"{text.ToLowerInvariant()} (published list, recorded {recorded})");
                networks.AddRange(list);
            }
            else if (text.StartsWith('@'))
            {
                var path = text[1..];
                if (!File.Exists(path))
                    throw new ArgumentException($"{option} {text}: file '{path}' does not exist");
                networks.AddRange(ParseLines(File.ReadLines(path), $"{option} {text}"));
                sources.Add($"file {Path.GetFullPath(path)}");
            }
            else
            {
                networks.Add(ParseNetwork(text, $"{option} {text}"));
                sources.Add(text);
            }
        }

        var distinct = networks.Distinct().ToList();
        return new EdgeRanges
        {
            Sources = sources,
            V4 = [.. distinct.Where(n => n.BaseAddress.AddressFamily == AddressFamily.InterNetwork)],
            V6 = [.. distinct.Where(n => n.BaseAddress.AddressFamily == AddressFamily.InterNetworkV6)],
        };
    }

    /// <summary>The date an edge's list was recorded and its networks, from the data file kept in the assembly.</summary>
    public static (string Recorded, IReadOnlyList<IPNetwork> Networks) Published(string edge)
    {
        var resource = $"WrinkleFree.Service.Firewall.{edge}-ips.txt";
        using var stream = typeof(EdgeRanges).Assembly.GetManifestResourceStream(resource)
            ?? throw new ArgumentException($"unknown edge '{edge}'; known: {string.Join(", ", KnownEdges)}");
        using var reader = new StreamReader(stream);
        var lines = new List<string>();
        while (reader.ReadLine() is { } line)
            lines.Add(line);
        const string marker = "# Recorded: ";
        var recorded = lines.FirstOrDefault(l => l.StartsWith(marker, StringComparison.Ordinal)) is { } r
            ? r[marker.Length..].Split(' ')[0]
            : "unknown";
        return (recorded, ParseLines(lines, resource));
    }

    private static List<IPNetwork> ParseLines(IEnumerable<string> lines, string where)
    {
        var networks = new List<IPNetwork>();
        var number = 0;
        foreach (var raw in lines)
        {
            number++;
            var line = raw.Split('#')[0].Trim();
            if (line.Length > 0)
                networks.Add(ParseNetwork(line, $"{where} line {number}"));
        }

        return networks;
    }

    private static IPNetwork ParseNetwork(string text, string where)
    {
        if (IPNetwork.TryParse(text, out var network))
        {
            // 10.0.0.1/8 parses as 10.0.0.0/8: sixteen million addresses where one was probably meant, so ask.
            if (IPAddress.TryParse(text.Split('/')[0], out var written) && !written.Equals(network.BaseAddress))
                throw new ArgumentException($"{where}: '{text}' has bits set past its prefix: write {network} for the whole network or {written}/{(written.AddressFamily == AddressFamily.InterNetwork ? 32 : 128)} for the one address");
            return network;
        }

        if (IPAddress.TryParse(text, out var address))
            return new IPNetwork(address, address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128);
        throw new ArgumentException(
            $"{where}: '{text}' is not an address, a CIDR (203.0.113.0/24, 2001:db8::/32), @FILE or a known edge ({string.Join(", ", KnownEdges)})");
    }
}
