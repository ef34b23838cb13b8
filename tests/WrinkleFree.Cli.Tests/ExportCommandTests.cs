using System.Text.Json;
using WrinkleFree.Testing;

namespace WrinkleFree.Cli.Tests;

/// <summary>
/// `wf export firewall SPEC --allow ...` in-process: the rules on stdout or in a file, notes on stderr, --json, and exit 2
/// with an error naming what is wrong (a spec without an endpoint port, a bad range) and what to do.
/// </summary>
public sealed class ExportCommandTests
{
    private const string Spec = "name: edge\nservice:\n  replicas: 1\n  ports: 8080\n  load_balancer:\n    host: 0.0.0.0\n    port: 8443\n";

    [Fact]
    public async Task Firewall_Cloudflare_RulesOnStdout()
    {
        using var console = new InProcessConsole();
        var spec = await WriteAsync(console, Spec);

        var code = await console.RunAsync("export", "firewall", spec, "--allow", "cloudflare", "--balancer", "10.0.0.5");

        Assert.True(code == ExitCodes.Success, console.Stderr);
        Assert.StartsWith("#!/usr/sbin/nft -f\n", console.Stdout, StringComparison.Ordinal);
        Assert.Contains("table inet wrinklefree_edge {", console.Stdout, StringComparison.Ordinal);
        Assert.Contains("tcp dport 8443 ip saddr @edge_v4 accept", console.Stdout, StringComparison.Ordinal);
        Assert.Contains("elements = { 10.0.0.5/32 }", console.Stdout, StringComparison.Ordinal);
        Assert.Equal("", console.Stderr);
    }

    [Fact]
    public async Task Firewall_OutputFileAndJson()
    {
        using var console = new InProcessConsole();
        var spec = await WriteAsync(console, Spec);
        var output = Path.Combine(console.Home, "rules.nft");

        var code = await console.RunAsync("export", "firewall", spec, "--allow", "cloudflare", "-o", output, "--json");

        Assert.True(code == ExitCodes.Success, console.Stderr);
        using var json = JsonDocument.Parse(console.Stdout);
        Assert.Equal("wrinklefree_edge", json.RootElement.GetProperty("table").GetString());
        Assert.Equal(8443, json.RootElement.GetProperty("endpoint").GetProperty("port").GetInt32());
        Assert.Equal(15, json.RootElement.GetProperty("endpoint").GetProperty("v4").GetInt32());
        Assert.Equal(8080, json.RootElement.GetProperty("replicas").GetProperty("port").GetInt32());
        Assert.Contains("replica port 8080: no --balancer given", json.RootElement.GetProperty("notes")[0].GetString(), StringComparison.Ordinal);
        Assert.Equal(JsonValueKind.Null, json.RootElement.GetProperty("rules").ValueKind);
        Assert.Contains("173.245.48.0/20", await File.ReadAllTextAsync(output), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Firewall_DesignProdSpec_NoEndpointPort_ExitTwoSayingWhatToSet()
    {
        using var console = new InProcessConsole();

        var code = await console.RunAsync("export", "firewall", Path.Combine(RepositoryPaths.Root, "deploy", "service-prod.yaml"), "--allow", "cloudflare");

        Assert.Equal(ExitCodes.InvalidInput, code);
        Assert.Equal("", console.Stdout);
        Assert.Equal("error: the endpoint's port is chosen at wf up unless the spec fixes it: set service.load_balancer.port (and host: 0.0.0.0) in the spec, or pass --endpoint-port N\n", console.Stderr);
    }

    [Fact]
    public async Task Firewall_BadRange_ExitTwoNamingIt()
    {
        using var console = new InProcessConsole();
        var spec = await WriteAsync(console, Spec);

        var code = await console.RunAsync("export", "firewall", spec, "--allow", "cloudflare", "192.0.2.1/33");

        Assert.Equal(ExitCodes.InvalidInput, code);
        Assert.StartsWith("error: --allow 192.0.2.1/33: '192.0.2.1/33' is not an address, a CIDR", console.Stderr, StringComparison.Ordinal);
    }

    private static async Task<string> WriteAsync(InProcessConsole console, string yaml)
    {
        Directory.CreateDirectory(console.Home);
        var path = Path.Combine(console.Home, "edge.yaml");
        await File.WriteAllTextAsync(path, yaml);
        return path;
    }
}
