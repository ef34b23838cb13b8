using System.Text.Json;

namespace WrinkleFree.Providers.Ssh.Terraform;

/// <summary>
/// Turns <c>terraform output -json</c> of a Hetzner-style module (an object whose keys are output names and whose values
/// are <c>{"sensitive", "type", "value"}</c>) into one pool entry of <c>ssh_node_pools.yaml</c>.
/// </summary>
/// <remarks>
/// The servers output (<see cref="TerraformImportOptions.Output"/>, else the one output that looks like servers) may be:
/// a list of IPv4 or IPv6 address strings; a map name → address; a list of objects, or a map name → object, with
/// <c>ipv4_address</c> / <c>ipv6_address</c> (hcloud_server's attributes), <c>ip</c> and <c>private_ip</c> fields and an
/// optional <c>name</c>. Objects give their IPv4 address (<c>ipv4_address</c>, else <c>ip</c>), their
/// <c>ipv6_address</c> with <see cref="TerraformImportOptions.Ipv6"/>, or their <c>private_ip</c> behind the module's
/// <c>bastion_ip</c> with <see cref="TerraformImportOptions.Private"/> (chosen on its own when no server has a public
/// address and there is a bastion). Optional outputs: <c>ssh_user</c>, <c>ssh_private_key_path</c> (or
/// <c>identity_file</c>), <c>ssh_port</c>, <c>bastion_ip</c>, <c>bastion_user</c>. Every error names the output and the key
/// path inside it.
/// </remarks>
public static class TerraformImport
{
    /// <summary>Output names taken for the servers when <see cref="TerraformImportOptions.Output"/> is not given.</summary>
    public static readonly IReadOnlyList<string> ServerOutputNames =
    [
        "servers", "server_ips", "server_addresses", "ipv4_addresses", "ipv6_addresses", "server_ipv4", "server_ipv6",
        "hosts", "nodes", "workers", "worker_ips", "ips", "ip_addresses",
    ];

    private static readonly string[] UserOutputs = ["ssh_user", "user"];
    private static readonly string[] KeyOutputs = ["ssh_private_key_path", "identity_file", "ssh_identity_file"];
    private static readonly string[] BastionOutputs = ["bastion_ip", "bastion_ipv4", "bastion_ipv4_address"];
    private static readonly HashSet<string> Scalars = new(StringComparer.Ordinal)
    {
        "ssh_user", "user", "ssh_private_key_path", "identity_file", "ssh_identity_file", "ssh_port", "bastion_ip",
        "bastion_ipv4", "bastion_ipv4_address", "bastion_user", "bastion_ipv6_address",
    };

    /// <summary>Reads <paramref name="json"/> (the whole of <c>terraform output -json</c>) and builds the pool.</summary>
    /// <exception cref="TerraformImportException">The output is not usable; the message names the key.</exception>
    public static TerraformImportResult Import(string json, TerraformImportOptions options)
    {
        ArgumentNullException.ThrowIfNull(json);
        ArgumentNullException.ThrowIfNull(options);
        try
        {
            using var document = JsonDocument.Parse(json, new JsonDocumentOptions { AllowTrailingCommas = false });
            return Import(document.RootElement, options);
        }
        catch (JsonException e)
        {
            throw new TerraformImportException(
                $"{options.Source}: not JSON ({e.Message}); give the file `terraform output -json > out.json` writes", e);
        }
    }

    private static TerraformImportResult Import(JsonElement root, TerraformImportOptions options)
    {
        SshPoolNames.Validate(options.Pool);
        var source = options.Source;
        if (root.ValueKind != JsonValueKind.Object)
            throw Error(source, null, $"expected the JSON object `terraform output -json` prints (output name → {{\"value\": ...}}), found {Kind(root)}");
        var outputs = new Dictionary<string, Output>(StringComparer.Ordinal);
        foreach (var property in root.EnumerateObject())
            outputs[property.Name] = Output.From(source, property);
        if (outputs.Count == 0)
            throw Error(source, null, "no outputs: the module defines none, or `terraform apply` has not run in that folder yet");

        var notes = new List<string>();
        var servers = PickServers(source, outputs, options.Output);
        if (servers.Sensitive)
            notes.Add($"output '{servers.Name}' is marked sensitive; its value was read from the JSON as given");

        var user = options.User ?? ReadString(source, outputs, UserOutputs, notes);
        if (user is null)
        {
            user = "root";
            notes.Add("no ssh_user output and no --user: using root (Hetzner's images log in as root)");
        }

        var key = options.IdentityFile ?? ReadString(source, outputs, KeyOutputs, notes);
        if (key is null)
            notes.Add("no ssh_private_key_path output and no --identity-file: the pool has no identity_file, so ssh-agent and the default keys are tried");

        int? port = null;
        if (outputs.TryGetValue("ssh_port", out var portOutput) && portOutput.Value.ValueKind != JsonValueKind.Null)
        {
            if (portOutput.Value.ValueKind != JsonValueKind.Number || !portOutput.Value.TryGetInt32(out var p) || p is < 1 or > 65535)
                throw Error(source, "ssh_port.value", $"expected a port number 1-65535, found {Describe(portOutput.Value)}");
            if (p != 22)
                port = p;
        }

        var bastion = ReadBastion(source, outputs, notes);
        var mode = ChooseMode(servers, options, bastion, notes);
        var hosts = ServerAddresses.Read(source, servers, mode);

        string? jump = null;
        if (mode == AddressMode.Private)
        {
            if (bastion is null)
                throw Error(source, null, $"--private: the hosts are private addresses, but there is no bastion_ip output to reach them through; add one to the module (see deploy/terraform/hetzner)");
            var bastionUser = ReadString(source, outputs, ["bastion_user"], notes) ?? user;
            jump = $"{bastionUser}@{(bastion.Contains(':', StringComparison.Ordinal) ? $"[{bastion}]" : bastion)}";
            notes.Add($"hosts are private addresses reached through the bastion {jump} (proxy_jump, a WrinkleFree extension; for `sky ssh up` add a ProxyJump for them to ~/.ssh/config)");
        }

        return new TerraformImportResult
        {
            Pool = new ImportedSshPool
            {
                Name = options.Pool,
                User = user,
                IdentityFile = key,
                Port = port,
                ProxyJump = jump,
                Hosts = hosts,
            },
            ServersOutput = servers.Name,
            Notes = notes,
        };
    }

    private static Output PickServers(string source, Dictionary<string, Output> outputs, string? name)
    {
        if (name is not null)
        {
            return outputs.TryGetValue(name, out var named)
                ? named
                : throw Error(source, null, $"no output '{name}' (--output); the outputs are: {string.Join(", ", outputs.Keys)}");
        }

        var candidates = outputs.Values.Where(o => !Scalars.Contains(o.Name) && ServerAddresses.LooksLikeServers(o.Value)).ToList();
        var known = outputs.Values.Where(o => ServerOutputNames.Contains(o.Name)).ToList();
        if (known.Count == 1)
            return known[0];
        if (known.Count == 0 && candidates.Count == 1)
            return candidates[0];
        var listed = (known.Count > 1 ? known : candidates).Select(o => o.Name).ToList();
        if (listed.Count == 0)
        {
            throw Error(source, null,
                $"no output looks like a list or map of server addresses (outputs: {string.Join(", ", outputs.Keys)}); name the one to read with --output NAME");
        }

        throw Error(source, null, $"several outputs could hold the servers ({string.Join(", ", listed)}); pick one with --output NAME");
    }

    private static AddressMode ChooseMode(Output servers, TerraformImportOptions options, string? bastion, List<string> notes)
    {
        if (options.Private && options.Ipv6)
            throw Error(options.Source, null, "--private and --ipv6 exclude each other: private_ip is an IPv4 address on the module's network");
        if (options.Private)
            return AddressMode.Private;
        if (options.Ipv6)
            return AddressMode.Ipv6;
        if (bastion is not null && ServerAddresses.AllLackPublicAddress(servers.Value))
        {
            notes.Add($"no server in '{servers.Name}' has a public address and the module has a bastion: using private_ip (as --private)");
            return AddressMode.Private;
        }

        return AddressMode.Ipv4;
    }

    private static string? ReadBastion(string source, Dictionary<string, Output> outputs, List<string> notes)
    {
        var bastion = ReadString(source, outputs, BastionOutputs, notes);
        if (bastion is not null && !ServerAddresses.IsAddress(bastion, AddressMode.Ipv4) && !ServerAddresses.IsAddress(bastion, AddressMode.Ipv6))
        {
            var name = BastionOutputs.First(outputs.ContainsKey);
            throw Error(source, $"{name}.value", $"'{bastion}' is not an IP address");
        }

        return bastion;
    }

    /// <summary>The first of <paramref name="names"/> that is present with a non-null value; it must be a non-empty string.</summary>
    private static string? ReadString(string source, Dictionary<string, Output> outputs, string[] names, List<string> notes)
    {
        foreach (var name in names)
        {
            if (!outputs.TryGetValue(name, out var output) || output.Value.ValueKind == JsonValueKind.Null)
                continue;
            if (output.Value.ValueKind != JsonValueKind.String || output.Value.GetString() is not { Length: > 0 } text)
                throw Error(source, $"{name}.value", $"expected a non-empty string, found {Describe(output.Value)}");
            if (output.Sensitive)
                notes.Add($"output '{name}' is marked sensitive; its value was read from the JSON as given");
            return text;
        }

        return null;
    }

    internal static TerraformImportException Error(string source, string? keyPath, string message) =>
        new($"{source}: {(keyPath is null ? "" : keyPath + ": ")}{message}") { KeyPath = keyPath };

    internal static string Kind(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "a list",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "nothing",
    };

    internal static string Describe(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.String => $"the string '{element.GetString()}'",
        JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => $"{Kind(element)} ({element.GetRawText()})",
        _ => Kind(element),
    };

    /// <summary>One output: its name, whether Terraform marked it sensitive, and its value.</summary>
    internal sealed record Output(string Name, bool Sensitive, JsonElement Value)
    {
        public static Output From(string source, JsonProperty property)
        {
            if (property.Value.ValueKind != JsonValueKind.Object)
                throw Error(source, property.Name, $"expected {{\"sensitive\", \"type\", \"value\"}} as `terraform output -json` prints, found {Kind(property.Value)} (was this `terraform output -json`, not `terraform output`?)");
            if (!property.Value.TryGetProperty("value", out var value))
                throw Error(source, property.Name, "no \"value\" key: not an output of `terraform output -json`");
            var sensitive = property.Value.TryGetProperty("sensitive", out var s) && s.ValueKind == JsonValueKind.True;
            return new Output(property.Name, sensitive, value.Clone());
        }
    }
}
