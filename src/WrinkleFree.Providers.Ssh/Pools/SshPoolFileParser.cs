using System.Globalization;
using WrinkleFree.Platform.Specs;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace WrinkleFree.Providers.Ssh.Pools;

/// <summary>
/// Reads <c>ssh_node_pools.yaml</c> into pools. Pool-level <c>user</c>, <c>identity_file</c>, <c>password</c>, <c>port</c>
/// and <c>proxy_jump</c> are defaults each host may override. <c>proxy_jump</c> is "[user@]host[:port]"; the jump host
/// authenticates with the node's own identity_file/password, as the node's user unless the value names one.
/// </summary>
internal static class SshPoolFileParser
{
    private static readonly string[] PoolKeys = ["user", "identity_file", "password", "port", "proxy_jump", "replicas_per_node", "hosts"];
    private static readonly string[] HostKeys = ["ip", "user", "identity_file", "password", "port", "proxy_jump"];
    private static readonly string[] NullWords = ["", "~", "null", "Null", "NULL"];

    public static IReadOnlyList<SshNodePool> Parse(string yaml, string? file)
    {
        ArgumentNullException.ThrowIfNull(yaml);
        var root = Load(yaml, file);
        if (root is not YamlMappingNode pools)
        {
            throw Error(file, "", root, "must be a mapping of pool name → pool (user, identity_file, hosts)");
        }

        var result = new List<SshNodePool>();
        foreach (var (keyNode, value) in pools.Children)
        {
            var name = Key(file, "", keyNode);
            result.Add(ReadPool(file, name, value));
        }

        return result;
    }

    private static YamlNode Load(string yaml, string? file)
    {
        var stream = new YamlStream();
        try
        {
            // Bounded before loading: the node tree is built and read recursively (see YamlLimits).
            YamlLimits.Check(yaml);
            stream.Load(new StringReader(yaml));
        }
        catch (YamlLimitException error)
        {
            throw Error(file, "", error.Start, error.Detail);
        }
        catch (YamlException error)
        {
            throw Error(file, "", error.Start, $"YAML syntax error: {error.Message}");
        }
        catch (Exception error) when (error is InvalidOperationException or ArgumentException)
        {
            throw Error(file, "", Mark.Empty, "YAML syntax error: the document is malformed (check the indentation, brackets and quotes)");
        }

        if (stream.Documents.Count == 0 || IsNull(stream.Documents[0].RootNode))
        {
            throw Error(file, "", Mark.Empty, "the file defines no pools");
        }

        if (stream.Documents.Count > 1)
        {
            throw Error(file, "", stream.Documents[1].RootNode, "the pool file is one YAML document; found a second one");
        }

        return stream.Documents[0].RootNode;
    }

    private static SshNodePool ReadPool(string? file, string name, YamlNode node)
    {
        var fields = Map(file, name, node, PoolKeys);
        var defaults = ReadCommon(file, name, fields);
        int? replicasPerNode = null;
        if (Get(fields, "replicas_per_node") is { } replicas)
        {
            var count = Int(file, name + ".replicas_per_node", replicas);
            if (count < 1)
            {
                throw Error(file, name + ".replicas_per_node", replicas, $"must be at least 1, got {count}");
            }

            replicasPerNode = count;
        }

        var hostsPath = name + ".hosts";
        if (Get(fields, "hosts") is not { } hostsNode)
        {
            throw Error(file, hostsPath, node, "missing: list the pool's hosts (\"1.2.3.4\" or {ip: ...})");
        }

        if (hostsNode is not YamlSequenceNode hosts || hosts.Children.Count == 0)
        {
            throw Error(file, hostsPath, hostsNode, "must be a non-empty list of hosts (\"1.2.3.4\" or {ip: ...})");
        }

        var nodes = new List<SshNode>();
        var seen = new Dictionary<(string, int), int>();
        for (var i = 0; i < hosts.Children.Count; i++)
        {
            var path = $"{hostsPath}[{i}]";
            var entry = hosts.Children[i];
            var sshNode = ReadHost(file, name, path, entry, defaults);
            if (seen.TryGetValue((sshNode.Host, sshNode.Port), out var first))
            {
                throw Error(file, path, entry, $"duplicate host {sshNode.Host} port {sshNode.Port} (also {hostsPath}[{first}])");
            }

            seen[(sshNode.Host, sshNode.Port)] = i;
            nodes.Add(sshNode);
        }

        return new SshNodePool { Name = name, Nodes = nodes, ReplicasPerNode = replicasPerNode };
    }

    private static SshNode ReadHost(string? file, string pool, string path, YamlNode entry, Common defaults)
    {
        string ip;
        var settings = defaults;
        YamlNode ipNode;
        if (entry is YamlScalarNode { Value: { } text } && !IsNull(entry))
        {
            ip = text;
            ipNode = entry;
        }
        else if (entry is YamlMappingNode)
        {
            var fields = Map(file, path, entry, HostKeys);
            ipNode = Get(fields, "ip") ?? throw Error(file, path + ".ip", entry, "missing: give the host's address (ip: 1.2.3.4)");
            ip = String(file, path + ".ip", ipNode);
            settings = defaults.Override(ReadCommon(file, path, fields));
        }
        else
        {
            throw Error(file, path, entry, "must be an address (\"1.2.3.4\") or a mapping with ip and optional user, identity_file, password, port, proxy_jump");
        }

        ip = ip.Trim();
        if (ip.Length == 0 || ip.Any(char.IsWhiteSpace))
        {
            throw Error(file, entry is YamlMappingNode ? path + ".ip" : path, ipNode, $"'{ip}' is not a host address");
        }

        if (settings.User is not { Length: > 0 } user)
        {
            throw Error(file, path + ".user", entry, $"missing: set user on the pool ({pool}.user) or on this host (wf does not read ~/.ssh/config)");
        }

        SshNode? jump = null;
        if (settings.ProxyJump is { } jumpText)
        {
            jump = ParseJump(file, settings.ProxyJumpPath!, settings.ProxyJumpNode!, jumpText, pool, user, settings);
        }

        return new SshNode
        {
            Pool = pool,
            Host = ip.StartsWith('[') && ip.EndsWith(']') ? ip[1..^1] : ip,
            Port = settings.Port ?? 22,
            User = user,
            IdentityFile = settings.IdentityFile,
            Password = settings.Password,
            ProxyJump = jump,
        };
    }

    private static SshNode ParseJump(string? file, string path, YamlNode node, string text, string pool, string user, Common settings)
    {
        var rest = text.Trim();
        var jumpUser = user;
        var at = rest.LastIndexOf('@');
        if (at >= 0)
        {
            jumpUser = rest[..at];
            rest = rest[(at + 1)..];
        }

        string host;
        var port = 22;
        string? portText = null;
        if (rest.StartsWith('['))
        {
            var close = rest.IndexOf(']', StringComparison.Ordinal);
            if (close < 0)
            {
                throw Error(file, path, node, $"'{text}' has '[' without ']'; write [user@]host[:port], IPv6 as [addr]:port");
            }

            host = rest[1..close];
            var after = rest[(close + 1)..];
            if (after.Length > 0)
            {
                portText = after.StartsWith(':') ? after[1..] : throw Error(file, path, node, $"'{text}': expected ':port' after ']'");
            }
        }
        else if (rest.Count(c => c == ':') == 1)
        {
            var colon = rest.IndexOf(':', StringComparison.Ordinal);
            host = rest[..colon];
            portText = rest[(colon + 1)..];
        }
        else
        {
            host = rest;
        }

        if (portText is not null && !TryPort(portText, out port))
        {
            throw Error(file, path, node, $"'{text}': port '{portText}' must be a number from 1 to 65535");
        }

        if (host.Length == 0 || jumpUser.Length == 0 || host.Any(char.IsWhiteSpace))
        {
            throw Error(file, path, node, $"'{text}' is not [user@]host[:port]");
        }

        return new SshNode
        {
            Pool = pool,
            Host = host,
            Port = port,
            User = jumpUser,
            IdentityFile = settings.IdentityFile,
            Password = settings.Password,
        };
    }

    private static Common ReadCommon(string? file, string path, Dictionary<string, (YamlNode Key, YamlNode Value)> fields)
    {
        int? port = null;
        if (Get(fields, "port") is { } portNode)
        {
            var text = String(file, path + ".port", portNode);
            port = TryPort(text, out var value)
                ? value
                : throw Error(file, path + ".port", portNode, $"must be a number from 1 to 65535, got '{text}'");
        }

        var jumpNode = Get(fields, "proxy_jump");
        return new Common(
            Optional(file, path + ".user", Get(fields, "user")),
            Optional(file, path + ".identity_file", Get(fields, "identity_file")),
            Optional(file, path + ".password", Get(fields, "password")),
            port,
            Optional(file, path + ".proxy_jump", jumpNode),
            jumpNode is null ? null : path + ".proxy_jump",
            jumpNode);
    }

    private static bool TryPort(string text, out int port) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out port) && port is >= 1 and <= 65535;

    private static Dictionary<string, (YamlNode Key, YamlNode Value)> Map(string? file, string path, YamlNode node, string[] allowed)
    {
        if (node is not YamlMappingNode mapping)
        {
            throw Error(file, path, node, $"must be a mapping with {string.Join(", ", allowed)}");
        }

        var result = new Dictionary<string, (YamlNode, YamlNode)>(StringComparer.Ordinal);
        foreach (var (keyNode, value) in mapping.Children)
        {
            var key = Key(file, path, keyNode);
            if (!allowed.Contains(key, StringComparer.Ordinal))
            {
                var suggestion = KeySuggestion.Closest(key, allowed);
                throw Error(file, $"{path}.{key}", keyNode,
                    $"unknown key; known: {string.Join(", ", allowed)}{(suggestion is null ? "" : $" (did you mean '{suggestion}'?)")}");
            }

            result[key] = (keyNode, value);
        }

        return result;
    }

    private static YamlNode? Get(Dictionary<string, (YamlNode Key, YamlNode Value)> fields, string key) =>
        fields.TryGetValue(key, out var field) && !IsNull(field.Value) ? field.Value : null;

    private static string Key(string? file, string path, YamlNode keyNode) => keyNode is YamlScalarNode { Value: { Length: > 0 } key }
        ? key
        : throw Error(file, path, keyNode, "keys must be plain, non-empty strings");

    private static string? Optional(string? file, string path, YamlNode? node) => node is null ? null : String(file, path, node);

    private static string String(string? file, string path, YamlNode node) => node is YamlScalarNode { Value: { } value }
        ? value
        : throw Error(file, path, node, $"must be a string, got a {(node is YamlSequenceNode ? "list" : "mapping")}");

    private static int Int(string? file, string path, YamlNode node)
    {
        var text = String(file, path, node);
        return int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw Error(file, path, node, $"must be an integer, got '{text}'");
    }

    private static bool IsNull(YamlNode? node) =>
        node is null || (node is YamlScalarNode { Style: ScalarStyle.Plain or ScalarStyle.Any } scalar && NullWords.Contains(scalar.Value ?? ""));

    private static SshPoolFileException Error(string? file, string path, YamlNode node, string detail) => Error(file, path, node.Start, detail);

    private static SshPoolFileException Error(string? file, string path, Mark mark, string detail) =>
        new(file, path, checked((int)mark.Line), checked((int)mark.Column), detail);

    /// <summary>Connection settings a pool gives its hosts and a host may override.</summary>
    private sealed record Common(
        string? User, string? IdentityFile, string? Password, int? Port, string? ProxyJump, string? ProxyJumpPath, YamlNode? ProxyJumpNode)
    {
        public Common Override(Common host) => new(
            host.User ?? User,
            host.IdentityFile ?? IdentityFile,
            host.Password ?? Password,
            host.Port ?? Port,
            host.ProxyJump ?? ProxyJump,
            host.ProxyJump is null ? ProxyJumpPath : host.ProxyJumpPath,
            host.ProxyJump is null ? ProxyJumpNode : host.ProxyJumpNode);
    }
}
