using WrinkleFree.Providers.Ssh.Terraform;
using WrinkleFree.Testing;

namespace WrinkleFree.Providers.Ssh.Tests.Terraform;

/// <summary>
/// <c>terraform output -json</c> → one pool entry: every accepted shape, the module's optional outputs and the command
/// line's overrides, IPv6 and private addresses behind a bastion, and errors that name the output and the key path.
/// </summary>
public sealed class TerraformImportTests
{
    private static readonly TerraformImportOptions Options = new() { Pool = "hetzner-base", Source = "out.json" };

    internal static string Data(string name) =>
        File.ReadAllText(Path.Combine(RepositoryPaths.Root, "tests", "WrinkleFree.Providers.Ssh.Tests", "Terraform", "data", name));

    /// <summary>An output object as `terraform output -json` prints it.</summary>
    internal static string Out(string name, string valueJson, bool sensitive = false) =>
        $"\"{name}\": {{\"sensitive\": {(sensitive ? "true" : "false")}, \"type\": \"dynamic\", \"value\": {valueJson}}}";

    private static string Outputs(params string[] outputs) => "{" + string.Join(",", outputs) + "}";

    private static TerraformImportException Fails(string json, TerraformImportOptions? options = null) =>
        Assert.Throws<TerraformImportException>(() => TerraformImport.Import(json, options ?? Options));

    [Fact]
    public void Import_HetznerModuleSample_PoolOfItsPublicIpv4Addresses()
    {
        var result = TerraformImport.Import(Data("hetzner-output.json"), Options);

        Assert.Equal("servers", result.ServersOutput);
        Assert.Equal(
            "hetzner-base:\n"
            + "  user: root\n"
            + "  identity_file: ~/.ssh/hetzner_ed25519\n"
            + "  hosts:\n"
            + "    - ip: 203.0.113.10  # wrinklefree-worker-1\n"
            + "    - ip: 203.0.113.11  # wrinklefree-worker-2\n"
            + "    - ip: 203.0.113.12  # wrinklefree-worker-3\n"
            + "    - ip: 198.51.100.21  # ax102-1\n",
            result.Pool.ToYaml());
        Assert.Empty(result.Notes);
    }

    [Fact]
    public void Import_HetznerModuleSampleWithBastion_PrivateAddressesThroughProxyJump()
    {
        var result = TerraformImport.Import(Data("hetzner-bastion-output.json"), Options);

        Assert.Equal(["10.0.1.10", "10.0.1.11", "10.0.1.12"], result.Pool.Hosts.Select(h => h.Ip));
        Assert.Equal("root@203.0.113.5", result.Pool.ProxyJump);
        Assert.Contains("  proxy_jump: root@203.0.113.5\n", result.Pool.ToYaml(), StringComparison.Ordinal);
        Assert.Contains(result.Notes, n => n.Contains("no server in 'servers' has a public address", StringComparison.Ordinal));
        Assert.Contains(result.Notes, n => n.Contains("ProxyJump", StringComparison.Ordinal));
    }

    [Fact]
    public void Import_ListOfIpv4Strings()
    {
        var result = TerraformImport.Import(Outputs(Out("server_ips", "[\"192.0.2.1\", \"192.0.2.2\"]")), Options);

        Assert.Equal("server_ips", result.ServersOutput);
        Assert.Equal(["192.0.2.1", "192.0.2.2"], result.Pool.Hosts.Select(h => h.Ip));
        Assert.All(result.Pool.Hosts, h => Assert.Null(h.Name));
        Assert.Equal("server_ips.value[1]", result.Pool.Hosts[1].Source);
    }

    [Fact]
    public void Import_ListOfIpv6Strings_WrittenSoYamlReadsThemBack()
    {
        var result = TerraformImport.Import(Outputs(Out("ipv6_addresses", "[\"2001:db8::1\", \"::ffff:192.0.2.9\"]")), Options);

        Assert.Equal(["2001:db8::1", "::ffff:192.0.2.9"], result.Pool.Hosts.Select(h => h.Ip));
        Assert.Contains("    - ip: 2001:db8::1\n", result.Pool.ToYaml(), StringComparison.Ordinal);
        // A plain scalar may not start with ':' followed by ':'; the writer quotes it.
        Assert.Contains("    - ip: \"::ffff:192.0.2.9\"\n", result.Pool.ToYaml(), StringComparison.Ordinal);
    }

    [Fact]
    public void Import_MapNameToIp_NamesKept()
    {
        var result = TerraformImport.Import(Outputs(Out("hosts", "{\"a\": \"192.0.2.1\", \"b\": \"2001:db8::2\"}")), Options);

        Assert.Equal([("a", "192.0.2.1"), ("b", "2001:db8::2")], result.Pool.Hosts.Select(h => (h.Name!, h.Ip)));
        Assert.Equal("hosts.value[\"b\"]", result.Pool.Hosts[1].Source);
    }

    [Fact]
    public void Import_MapOfHcloudServerObjects_Ipv4AddressPerServer()
    {
        var json = Outputs(Out("workers", """
            {"w1": {"ipv4_address": "192.0.2.1", "ipv6_address": "2001:db8::1", "id": "1"},
             "w2": {"ipv4_address": "192.0.2.2", "ipv6_address": "2001:db8::2", "id": "2"}}
            """));

        var result = TerraformImport.Import(json, Options);

        Assert.Equal([("w1", "192.0.2.1"), ("w2", "192.0.2.2")], result.Pool.Hosts.Select(h => (h.Name!, h.Ip)));
        Assert.Equal("workers.value[\"w2\"].ipv4_address", result.Pool.Hosts[1].Source);
    }

    [Fact]
    public void Import_HcloudServerResourceAsItIs_TakesIpv4AddressAndName()
    {
        // `output "servers" { value = hcloud_server.worker }`: every attribute of the resource, nested network blocks included.
        var json = Outputs(Out("servers", """
            [{"id": "51234", "name": "w-1", "server_type": "ccx33", "ipv4_address": "192.0.2.1", "ipv6_address": "2001:db8::1",
              "ipv6_network": "2001:db8::/64", "labels": {"app": "wrinklefree"}, "network": [{"alias_ips": [], "ip": "10.0.1.10", "mac_address": "86:00:00:00:00:01", "network_id": 1}],
              "public_net": [{"ipv4": 0, "ipv4_enabled": true, "ipv6": 0, "ipv6_enabled": true}]},
             {"id": "51235", "name": "w-2", "server_type": "ccx33", "ipv4_address": "192.0.2.2", "ipv6_address": "2001:db8:1::1",
              "ipv6_network": "2001:db8:1::/64", "labels": {}, "network": [], "public_net": []}]
            """), Out("ssh_user", "\"root\""));

        var result = TerraformImport.Import(json, Options);

        Assert.Equal([("w-1", "192.0.2.1"), ("w-2", "192.0.2.2")], result.Pool.Hosts.Select(h => (h.Name!, h.Ip)));
    }

    [Fact]
    public void Import_ObjectsWithIpField()
    {
        var result = TerraformImport.Import(Outputs(Out("nodes", "[{\"ip\": \"192.0.2.7\"}, {\"ip\": \"2001:db8::7\"}]")), Options);

        Assert.Equal(["192.0.2.7", "2001:db8::7"], result.Pool.Hosts.Select(h => h.Ip));
    }

    [Fact]
    public void Import_Ipv6Flag_UsesIpv6Address()
    {
        var result = TerraformImport.Import(Data("hetzner-output.json"), Options with { Ipv6 = true });

        Assert.Equal(["2001:db8:10::1", "2001:db8:11::1", "2001:db8:12::1", "2001:db8:21::2"], result.Pool.Hosts.Select(h => h.Ip));
        Assert.Equal("servers.value[0].ipv6_address", result.Pool.Hosts[0].Source);
    }

    [Fact]
    public void Import_PrivateFlag_UsesPrivateIpAndBastion()
    {
        var json = Outputs(
            Out("servers", "[{\"ipv4_address\": \"192.0.2.1\", \"private_ip\": \"10.0.1.10\"}]"),
            Out("bastion_ip", "\"198.51.100.1\""),
            Out("bastion_user", "\"jump\""));

        var result = TerraformImport.Import(json, Options with { Private = true });

        Assert.Equal("10.0.1.10", Assert.Single(result.Pool.Hosts).Ip);
        Assert.Equal("jump@198.51.100.1", result.Pool.ProxyJump);
    }

    [Fact]
    public void Import_CommandLineOverridesModuleUserAndKey()
    {
        var result = TerraformImport.Import(Data("hetzner-output.json"), Options with { User = "deploy", IdentityFile = "/keys/id_ed25519" });

        Assert.Equal("deploy", result.Pool.User);
        Assert.Equal("/keys/id_ed25519", result.Pool.IdentityFile);
        Assert.StartsWith("hetzner-base:\n  user: deploy\n  identity_file: /keys/id_ed25519\n  hosts:\n", result.Pool.ToYaml(), StringComparison.Ordinal);
    }

    [Fact]
    public void Import_NoUserOrKeyOutputs_RootAndNoIdentityFileWithNotes()
    {
        var result = TerraformImport.Import(Outputs(Out("servers", "[\"192.0.2.1\"]")), Options);

        Assert.Equal("root", result.Pool.User);
        Assert.Null(result.Pool.IdentityFile);
        Assert.DoesNotContain("identity_file", result.Pool.ToYaml(), StringComparison.Ordinal);
        Assert.Contains(result.Notes, n => n.StartsWith("no ssh_user output", StringComparison.Ordinal));
        Assert.Contains(result.Notes, n => n.StartsWith("no ssh_private_key_path output", StringComparison.Ordinal));
    }

    [Fact]
    public void Import_IdentityFileOutputAndPort()
    {
        var json = Outputs(Out("servers", "[\"192.0.2.1\"]"), Out("identity_file", "\"~/.ssh/k\""), Out("ssh_port", "2222"));

        var result = TerraformImport.Import(json, Options);

        Assert.Equal("~/.ssh/k", result.Pool.IdentityFile);
        Assert.Equal(2222, result.Pool.Port);
        Assert.Contains("  port: 2222\n", result.Pool.ToYaml(), StringComparison.Ordinal);
    }

    [Fact]
    public void Import_SensitiveOutputs_Noted()
    {
        var json = Outputs(Out("servers", "[\"192.0.2.1\"]", sensitive: true), Out("ssh_private_key_path", "\"~/.ssh/k\"", sensitive: true));

        var result = TerraformImport.Import(json, Options);

        Assert.Contains("output 'servers' is marked sensitive; its value was read from the JSON as given", result.Notes);
        Assert.Contains("output 'ssh_private_key_path' is marked sensitive; its value was read from the JSON as given", result.Notes);
    }

    [Fact]
    public void Import_OutputFlag_PicksAmongSeveral()
    {
        var json = Outputs(Out("web", "[\"192.0.2.1\"]"), Out("db", "[\"192.0.2.2\"]"));

        var result = TerraformImport.Import(json, Options with { Output = "db" });

        Assert.Equal("192.0.2.2", Assert.Single(result.Pool.Hosts).Ip);
    }

    [Fact]
    public void Import_SingleCandidateWithUnknownName_Taken()
    {
        var json = Outputs(Out("inference_boxes", "[\"192.0.2.1\"]"), Out("server_ids", "[\"123\", \"456\"]"), Out("region", "\"fsn1\""));

        Assert.Equal("inference_boxes", TerraformImport.Import(json, Options).ServersOutput);
    }

    [Fact]
    public void Import_SeveralCandidates_ErrorListsThem()
    {
        var e = Fails(Outputs(Out("web", "[\"192.0.2.1\"]"), Out("db", "[\"192.0.2.2\"]")));

        Assert.Equal("out.json: several outputs could hold the servers (web, db); pick one with --output NAME", e.Message);
    }

    [Fact]
    public void Import_NoCandidate_ErrorListsOutputs()
    {
        var e = Fails(Outputs(Out("region", "\"fsn1\""), Out("ids", "[1, 2]")));

        Assert.Equal("out.json: no output looks like a list or map of server addresses (outputs: region, ids); name the one to read with --output NAME", e.Message);
    }

    [Fact]
    public void Import_UnknownOutputFlag_ErrorListsOutputs()
    {
        var e = Fails(Data("hetzner-output.json"), Options with { Output = "server" });

        Assert.StartsWith("out.json: no output 'server' (--output); the outputs are: bastion_ip, bastion_private_ip,", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Import_MissingIpv4Address_NamesKeyPath()
    {
        var json = Outputs(Out("servers", """
            [{"ipv4_address": "192.0.2.1"}, {"ipv4_address": "192.0.2.2"}, {"name": "c", "ipv4_address": null, "ipv6_address": "2001:db8::3"}]
            """));

        var e = Fails(json);

        Assert.Equal("out.json: servers.value[2].ipv4_address: missing (the server has only an IPv6 address: pass --ipv6)", e.Message);
        Assert.Equal("servers.value[2].ipv4_address", e.KeyPath);
    }

    [Fact]
    public void Import_MissingIpv4WithPrivateIpAndNoBastion_SaysPrivate()
    {
        var e = Fails(Outputs(Out("servers", "[{\"ipv4_address\": \"\", \"private_ip\": \"10.0.1.10\"}]")));

        Assert.Equal("out.json: servers.value[0].ipv4_address: missing (the server has a private_ip: pass --private to reach it through the module's bastion_ip)", e.Message);
    }

    [Fact]
    public void Import_PrivateWithoutBastion_Error()
    {
        var e = Fails(Outputs(Out("servers", "[{\"private_ip\": \"10.0.1.10\"}]")), Options with { Private = true });

        Assert.StartsWith("out.json: --private: the hosts are private addresses, but there is no bastion_ip output", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Import_MissingIpv6Address_NamesKeyPath()
    {
        var e = Fails(Data("hetzner-bastion-output.json"), Options with { Ipv6 = true });

        Assert.Equal("out.json: servers.value[0].ipv6_address: missing (the server has a private_ip: pass --private to reach it through the module's bastion_ip)", e.Message);
    }

    [Theory]
    [InlineData("[\"192.0.2.1\", \"300.1.2.3\"]", "out.json: servers.value[1]: '300.1.2.3' is not an IPv4 or IPv6 address")]
    [InlineData("[\"192.0.2.1\", \"web-1.example.com\"]", "out.json: servers.value[1]: 'web-1.example.com' is not an IPv4 or IPv6 address")]
    [InlineData("[\"1\"]", "out.json: servers.value[0]: '1' is not an IPv4 or IPv6 address")]
    [InlineData("[{\"ipv4_address\": \"2001:db8::1\"}]", "out.json: servers.value[0].ipv4_address: '2001:db8::1' is not an IPv4 address")]
    [InlineData("[{\"ipv4_address\": 17}]", "out.json: servers.value[0].ipv4_address: expected an address string, found a number (17)")]
    [InlineData("{\"a\": {\"ip\": \"x\"}}", "out.json: servers.value[\"a\"].ip: 'x' is not an IPv4 or IPv6 address")]
    [InlineData("[\"192.0.2.1\", 5]", "out.json: servers.value[1]: expected an address string or a server object (ipv4_address, ipv6_address, ip, private_ip), found a number (5)")]
    [InlineData("[\"192.0.2.1\", \"192.0.2.1\"]", "out.json: servers.value[1]: 192.0.2.1 is listed twice (also at servers.value[0])")]
    [InlineData("[]", "out.json: servers.value: empty list: no servers to import (server count 0, or the wrong output: pass --output NAME)")]
    [InlineData("{}", "out.json: servers.value: empty map: no servers to import (server count 0, or the wrong output: pass --output NAME)")]
    [InlineData("null", "out.json: servers.value: expected a list or map of servers, found null (has `terraform apply` run?)")]
    [InlineData("\"192.0.2.1\"", "out.json: servers.value: expected a list or map of servers, found the string '192.0.2.1'")]
    public void Import_BadServers_ErrorNamesKeyPath(string value, string message)
    {
        Assert.Equal(message, Fails(Outputs(Out("servers", value))).Message);
    }

    [Theory]
    [InlineData("not json", "out.json: not JSON (")]
    [InlineData("[]", "out.json: expected the JSON object `terraform output -json` prints")]
    [InlineData("{}", "out.json: no outputs: the module defines none, or `terraform apply` has not run in that folder yet")]
    [InlineData("{\"servers\": [\"192.0.2.1\"]}", "out.json: servers: expected {\"sensitive\", \"type\", \"value\"} as `terraform output -json` prints, found a list")]
    [InlineData("{\"servers\": {\"sensitive\": false}}", "out.json: servers: no \"value\" key")]
    public void Import_NotTerraformOutput_Error(string json, string prefix)
    {
        Assert.StartsWith(prefix, Fails(json).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ssh_user", "[\"root\"]", "out.json: ssh_user.value: expected a non-empty string, found a list")]
    [InlineData("ssh_private_key_path", "42", "out.json: ssh_private_key_path.value: expected a non-empty string, found a number (42)")]
    [InlineData("ssh_port", "70000", "out.json: ssh_port.value: expected a port number 1-65535, found a number (70000)")]
    [InlineData("bastion_ip", "\"bastion.example\"", "out.json: bastion_ip.value: 'bastion.example' is not an IP address")]
    public void Import_BadOptionalOutput_ErrorNamesIt(string name, string value, string message)
    {
        Assert.Equal(message, Fails(Outputs(Out("servers", "[\"192.0.2.1\"]"), Out(name, value))).Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData("-pool")]
    [InlineData("my pool")]
    [InlineData("a:b")]
    public void Import_BadPoolName_Error(string pool)
    {
        Assert.StartsWith($"pool name '{pool}' is not usable", Fails(Data("hetzner-output.json"), Options with { Pool = pool }).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Import_PrivateAndIpv6_Error()
    {
        Assert.Equal(
            "out.json: --private and --ipv6 exclude each other: private_ip is an IPv4 address on the module's network",
            Fails(Data("hetzner-output.json"), Options with { Private = true, Ipv6 = true }).Message);
    }
}
