using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace WrinkleFree.Providers.Ssh.Terraform;

/// <summary>Reads the hosts out of the servers output in each shape <see cref="TerraformImport"/> documents.</summary>
internal static partial class ServerAddresses
{
    private static readonly string[] AddressFields = ["ipv4_address", "ipv6_address", "ip", "private_ip"];

    /// <summary>A non-empty list or map whose every entry is an address string or an object with an address field.</summary>
    public static bool LooksLikeServers(JsonElement value)
    {
        var entries = Entries(value).ToList();
        return entries.Count > 0 && entries.All(e => e.Value.ValueKind switch
        {
            JsonValueKind.String => IsAddress(e.Value.GetString()!, AddressMode.Ipv4) || IsAddress(e.Value.GetString()!, AddressMode.Ipv6),
            JsonValueKind.Object => AddressFields.Any(f => e.Value.TryGetProperty(f, out _)),
            _ => false,
        });
    }

    /// <summary>Every entry is an object with a private_ip and neither a public IPv4/IPv6 address nor an ip.</summary>
    public static bool AllLackPublicAddress(JsonElement value)
    {
        var entries = Entries(value).ToList();
        return entries.Count > 0 && entries.All(e => e.Value.ValueKind == JsonValueKind.Object
            && Text(e.Value, "private_ip") is not null
            && Text(e.Value, "ipv4_address") is null && Text(e.Value, "ipv6_address") is null && Text(e.Value, "ip") is null);
    }

    public static IReadOnlyList<ImportedSshHost> Read(string source, TerraformImport.Output output, AddressMode mode)
    {
        var root = $"{output.Name}.value";
        if (output.Value.ValueKind is not (JsonValueKind.Array or JsonValueKind.Object))
        {
            var hint = output.Value.ValueKind == JsonValueKind.Null ? " (has `terraform apply` run?)" : "";
            throw TerraformImport.Error(source, root, $"expected a list or map of servers, found {TerraformImport.Describe(output.Value)}{hint}");
        }

        var hosts = new List<ImportedSshHost>();
        var seen = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (key, index, entry) in Entries(output.Value))
        {
            var path = key is null ? $"{root}[{index}]" : $"{root}[\"{key}\"]";
            var host = entry.ValueKind switch
            {
                JsonValueKind.String => FromString(source, path, entry.GetString()!, key),
                JsonValueKind.Object => FromObject(source, path, entry, key, mode),
                _ => throw TerraformImport.Error(source, path, $"expected an address string or a server object (ipv4_address, ipv6_address, ip, private_ip), found {TerraformImport.Describe(entry)}"),
            };
            if (seen.TryGetValue(host.Ip, out var first))
                throw TerraformImport.Error(source, host.Source, $"{host.Ip} is listed twice (also at {first})");
            seen[host.Ip] = host.Source;
            hosts.Add(host);
        }

        if (hosts.Count == 0)
        {
            throw TerraformImport.Error(source, root,
                $"empty {(output.Value.ValueKind == JsonValueKind.Array ? "list" : "map")}: no servers to import (server count 0, or the wrong output: pass --output NAME)");
        }

        return hosts;
    }

    public static bool IsAddress(string text, AddressMode mode) => mode switch
    {
        AddressMode.Ipv6 => text.Contains(':', StringComparison.Ordinal)
            && IPAddress.TryParse(text, out var v6) && v6.AddressFamily == AddressFamily.InterNetworkV6,
        _ => DottedQuad().IsMatch(text) && IPAddress.TryParse(text, out var v4) && v4.AddressFamily == AddressFamily.InterNetwork,
    };

    private static ImportedSshHost FromString(string source, string path, string text, string? key)
    {
        if (!IsAddress(text, AddressMode.Ipv4) && !IsAddress(text, AddressMode.Ipv6))
            throw TerraformImport.Error(source, path, $"'{text}' is not an IPv4 or IPv6 address");
        return new ImportedSshHost { Ip = text, Name = key, Source = path };
    }

    private static ImportedSshHost FromObject(string source, string path, JsonElement server, string? key, AddressMode mode)
    {
        var name = key ?? (server.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString() : null);
        var (field, family) = mode switch
        {
            AddressMode.Ipv6 => (Present(source, path, server, "ipv6_address") ? "ipv6_address" : IpField(source, path, server, AddressMode.Ipv6), AddressMode.Ipv6),
            AddressMode.Private => ("private_ip", AddressMode.Ipv4),
            _ => (Present(source, path, server, "ipv4_address") ? "ipv4_address" : IpField(source, path, server, AddressMode.Ipv4), AddressMode.Ipv4),
        };
        var text = Text(server, field);
        if (text is null)
            throw TerraformImport.Error(source, $"{path}.{field}", $"missing{MissingHint(server, mode)}");
        // `ip` is whatever family the module put there; the typed fields must hold their own family.
        var ok = field == "ip" ? IsAddress(text, AddressMode.Ipv4) || IsAddress(text, AddressMode.Ipv6) : IsAddress(text, family);
        if (!ok)
        {
            var what = field == "ip" ? "an IPv4 or IPv6 address" : family == AddressMode.Ipv6 ? "an IPv6 address" : "an IPv4 address";
            throw TerraformImport.Error(source, $"{path}.{field}", $"'{text}' is not {what}");
        }

        return new ImportedSshHost { Ip = text, Name = name, Source = $"{path}.{field}" };
    }

    /// <summary>The field to read when the typed one is absent: <c>ip</c> when the object has it, else the typed name (to report it missing).</summary>
    private static string IpField(string source, string path, JsonElement server, AddressMode mode) =>
        Present(source, path, server, "ip") ? "ip" : mode == AddressMode.Ipv6 ? "ipv6_address" : "ipv4_address";

    /// <summary>Whether <paramref name="field"/> holds a non-empty value; a value that is not a string is an error naming it.</summary>
    private static bool Present(string source, string path, JsonElement server, string field)
    {
        if (!server.TryGetProperty(field, out var value) || value.ValueKind == JsonValueKind.Null)
            return false;
        if (value.ValueKind != JsonValueKind.String)
            throw TerraformImport.Error(source, $"{path}.{field}", $"expected an address string, found {TerraformImport.Describe(value)}");
        return value.GetString() is { Length: > 0 };
    }

    private static string? Text(JsonElement server, string field) =>
        server.TryGetProperty(field, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text ? text : null;

    private static string MissingHint(JsonElement server, AddressMode mode)
    {
        if (mode == AddressMode.Ipv4 && Text(server, "ipv6_address") is not null)
            return " (the server has only an IPv6 address: pass --ipv6)";
        if (mode != AddressMode.Private && Text(server, "private_ip") is not null)
            return " (the server has a private_ip: pass --private to reach it through the module's bastion_ip)";
        return mode == AddressMode.Private ? " (--private reads each server's private_ip)" : "";
    }

    /// <summary>A list's items (key null) or a map's entries (key set), in the order the JSON holds them.</summary>
    private static IEnumerable<(string? Key, int Index, JsonElement Value)> Entries(JsonElement value)
    {
        if (value.ValueKind == JsonValueKind.Array)
        {
            var i = 0;
            foreach (var item in value.EnumerateArray())
                yield return (null, i++, item);
        }
        else if (value.ValueKind == JsonValueKind.Object)
        {
            var i = 0;
            foreach (var property in value.EnumerateObject())
                yield return (property.Name, i++, property.Value);
        }
    }

    [GeneratedRegex(@"^[0-9]{1,3}(\.[0-9]{1,3}){3}$")]
    private static partial Regex DottedQuad();
}
