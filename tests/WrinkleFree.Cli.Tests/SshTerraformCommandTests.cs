using System.CommandLine;
using System.Text.Json;
using WrinkleFree.Testing;

namespace WrinkleFree.Cli.Tests;

/// <summary>
/// <c>wf ssh import-terraform</c> in-process, under an <c>ssh</c> group built here (the lead wires the group into
/// <c>wf</c>): the Hetzner module's sample output into $WF_HOME/ssh_node_pools.yaml, stdin, --json, --dry-run, the refusal
/// to overwrite a pool without --replace, and errors that name the key and exit 2.
/// </summary>
public sealed class SshTerraformCommandTests
{
    private static readonly string Sample = Path.Combine(RepositoryPaths.Root, "tests", "WrinkleFree.Providers.Ssh.Tests", "Terraform", "data", "hetzner-output.json");

    [Fact]
    public async Task Import_SampleIntoWfHome_PoolOnStdoutFileWritten()
    {
        using var console = new InProcessConsole();
        var key = WriteKey(console);

        var code = await RunAsync(console, null, "ssh", "import-terraform", Sample, "--pool", "hetzner-base", "--identity-file", key);

        Assert.True(code == ExitCodes.Success, console.Stderr);
        var file = Path.Combine(console.Home, "ssh_node_pools.yaml");
        var expected = $"hetzner-base:\n  user: root\n  identity_file: {key}\n  hosts:\n"
            + "    - ip: 203.0.113.10  # wrinklefree-worker-1\n    - ip: 203.0.113.11  # wrinklefree-worker-2\n"
            + "    - ip: 203.0.113.12  # wrinklefree-worker-3\n    - ip: 198.51.100.21  # ax102-1\n";
        Assert.Equal(expected, console.Stdout);
        Assert.Equal(expected, await File.ReadAllTextAsync(file));
        Assert.Equal($"added pool 'hetzner-base' (4 hosts, from output 'servers') in {file}; next: wf ssh up --pool hetzner-base\n", console.Stderr);
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
    }

    [Fact]
    public async Task Import_NoWfHomeYet_CreatedOwnerOnly()
    {
        using var console = new InProcessConsole();

        var code = await RunAsync(console, null, "ssh", "import-terraform", Sample, "--pool", "hetzner-base");

        Assert.True(code == ExitCodes.Success, console.Stderr);
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(console.Home));
        if (!File.Exists(Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".ssh", "hetzner_ed25519")))
            Assert.Contains("note: identity_file ~/.ssh/hetzner_ed25519 does not exist on this machine", console.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Import_ExistingPool_RefusedThenReplacedWithReplace_OtherPoolKept()
    {
        using var console = new InProcessConsole();
        var file = Path.Combine(console.Home, "pools.yaml");
        Directory.CreateDirectory(console.Home);
        const string other = "# mine\noffice:\n  user: admin\n  hosts: [192.168.1.20]\n\n";
        await File.WriteAllTextAsync(file, other + "hetzner-base:\n  hosts: [10.9.9.9]\n");

        var refused = await RunAsync(console, null, "ssh", "import-terraform", Sample, "--pool", "hetzner-base", "--file", file);

        Assert.Equal(ExitCodes.InvalidInput, refused);
        Assert.Equal($"error: {file}: pool 'hetzner-base' already exists (1 host); pass --replace to overwrite it, or choose another --pool\n", console.Stderr);
        Assert.Equal("", console.Stdout);

        using var again = new InProcessConsole();
        var replaced = await RunAsync(again, null, "ssh", "import-terraform", Sample, "--pool", "hetzner-base", "--file", file, "--replace", "--user", "deploy");

        Assert.True(replaced == ExitCodes.Success, again.Stderr);
        var text = await File.ReadAllTextAsync(file);
        Assert.StartsWith(other + "hetzner-base:\n  user: deploy\n  identity_file: ~/.ssh/hetzner_ed25519\n  hosts:\n    - ip: 203.0.113.10", text, StringComparison.Ordinal);
        Assert.Contains($"replaced pool 'hetzner-base' (4 hosts, from output 'servers') in {file}", again.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Import_StdinJsonDryRun_NothingWritten()
    {
        using var console = new InProcessConsole();
        using var stdin = new StringReader(await File.ReadAllTextAsync(Sample));

        var code = await RunAsync(console, stdin, "ssh", "import-terraform", "-", "--pool", "hz", "--ipv6", "--json", "--dry-run");

        Assert.True(code == ExitCodes.Success, console.Stderr);
        Assert.False(File.Exists(Path.Combine(console.Home, "ssh_node_pools.yaml")));
        using var json = JsonDocument.Parse(console.Stdout);
        var root = json.RootElement;
        Assert.Equal("hz", root.GetProperty("pool").GetString());
        Assert.False(root.GetProperty("written").GetBoolean());
        Assert.Equal("servers", root.GetProperty("servers_output").GetString());
        Assert.Equal("2001:db8:10::1", root.GetProperty("hosts")[0].GetProperty("ip").GetString());
        Assert.Equal("servers.value[0].ipv6_address", root.GetProperty("hosts")[0].GetProperty("source").GetString());
        Assert.StartsWith("hz:\n  user: root\n", root.GetProperty("yaml").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Import_BadOutput_ExitTwoNamingKeyPath()
    {
        using var console = new InProcessConsole();
        Directory.CreateDirectory(console.Home);
        var bad = Path.Combine(console.Home, "out.json");
        await File.WriteAllTextAsync(bad, "{\"servers\": {\"sensitive\": false, \"type\": \"dynamic\", \"value\": [\"192.0.2.1\", {\"name\": \"b\"}]}}");

        var code = await RunAsync(console, null, "ssh", "import-terraform", bad, "--pool", "p");

        Assert.Equal(ExitCodes.InvalidInput, code);
        Assert.Equal($"error: {bad}: servers.value[1].ipv4_address: missing\n", console.Stderr);
        Assert.False(File.Exists(Path.Combine(console.Home, "ssh_node_pools.yaml")));
    }

    [Fact]
    public async Task Import_MissingFile_ExitTwoSayingHowToWriteIt()
    {
        using var console = new InProcessConsole();

        var code = await RunAsync(console, null, "ssh", "import-terraform", "nope.json", "--pool", "p");

        Assert.Equal(ExitCodes.InvalidInput, code);
        Assert.Equal("error: 'nope.json' does not exist; write it in the module's folder with `terraform output -json > nope.json`\n", console.Stderr);
    }

    /// <summary>Runs ARGS against a root with an <c>ssh</c> group holding only this command.</summary>
    private static Task<int> RunAsync(InProcessConsole console, TextReader? stdin, params string[] args)
    {
        var root = new RootCommand("wf") { new Command("ssh", "SSH node pools") { new SshTerraformCommand(console.Context, stdin).Build() } };
        return root.Parse(args).InvokeAsync(new InvocationConfiguration { Output = console.Context.Out, Error = console.Context.Error });
    }

    private static string WriteKey(InProcessConsole console)
    {
        Directory.CreateDirectory(console.Home);
        var key = Path.Combine(console.Home, "id_ed25519");
        File.WriteAllText(key, "not a real key; the importer only checks that it exists\n");
        return key;
    }
}
