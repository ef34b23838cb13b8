using WrinkleFree.Providers.Ssh.Terraform;
using WrinkleFree.Testing;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace WrinkleFree.Providers.Ssh.Tests.Terraform;

/// <summary>
/// Merging one imported pool into <c>ssh_node_pools.yaml</c>: other pools kept byte for byte (comments included), an
/// existing pool refused until replacing is asked for, the fallback rewrite for layouts that cannot be spliced, and the
/// atomic owner-only write.
/// </summary>
public sealed class SshPoolFileWriterTests
{
    private const string Existing =
        "# Pools for sky ssh up and wf ssh up.\n"
        + "\n"
        + "# The office box, keep it.\n"
        + "office:\n"
        + "  user: admin   # not root\n"
        + "  hosts:\n"
        + "    - 192.168.1.20\n"
        + "# a comment at column 0 inside the office pool\n"
        + "    - ip: 192.168.1.21\n"
        + "      password: hunter2\n"
        + "\n"
        + "# Hetzner, written by import-terraform.\n"
        + "hetzner-base:\n"
        + "  user: root\n"
        + "  hosts:\n"
        + "    - ip: 10.9.9.9\n"
        + "\n"
        + "# The lab, last.\n"
        + "lab:\n"
        + "  identity_file: ~/.ssh/lab\n"
        + "  hosts: [10.1.0.1, 10.1.0.2]   # flow style inside a block file\n";

    private static readonly ImportedSshPool Pool = new()
    {
        Name = "hetzner-base",
        User = "root",
        IdentityFile = "~/.ssh/hetzner_ed25519",
        Hosts =
        [
            new ImportedSshHost { Ip = "203.0.113.10", Name = "w1", Source = "servers.value[0].ipv4_address" },
            new ImportedSshHost { Ip = "203.0.113.11", Name = "w2", Source = "servers.value[1].ipv4_address" },
        ],
    };

    [Fact]
    public void Merge_NoFile_PoolIsTheFile()
    {
        var merge = SshPoolFileWriter.Merge(null, Pool, replace: false, "pools.yaml");

        Assert.Equal(Pool.ToYaml(), merge.Text);
        Assert.False(merge.Replaced);
        Assert.True(merge.KeptOtherPoolsVerbatim);
        Assert.Empty(merge.OtherPools);
    }

    [Fact]
    public void Merge_OnlyComments_KeptAbovePool()
    {
        var merge = SshPoolFileWriter.Merge("# nothing yet\n", Pool, replace: false, "pools.yaml");

        Assert.Equal("# nothing yet\n\n" + Pool.ToYaml(), merge.Text);
    }

    [Fact]
    public void Merge_NewPool_AppendedAndEverythingElseByteForByte()
    {
        var merge = SshPoolFileWriter.Merge(Existing, Pool with { Name = "hetzner-2" }, replace: false, "pools.yaml");

        Assert.Equal(Existing + "\n" + (Pool with { Name = "hetzner-2" }).ToYaml(), merge.Text);
        Assert.False(merge.Replaced);
        Assert.True(merge.KeptOtherPoolsVerbatim);
        Assert.Equal(["office", "hetzner-base", "lab"], merge.OtherPools);
    }

    [Fact]
    public void Merge_ExistingPoolWithoutReplace_RefusedNamingItAndTheFlag()
    {
        var e = Assert.Throws<SshPoolFileException>(() => SshPoolFileWriter.Merge(Existing, Pool, replace: false, "pools.yaml"));

        Assert.Equal("pools.yaml: pool 'hetzner-base' already exists (1 host); pass --replace to overwrite it, or choose another --pool", e.Message);
    }

    [Fact]
    public void Merge_ExistingPoolWithReplace_OnlyItsBlockChanges()
    {
        var merge = SshPoolFileWriter.Merge(Existing, Pool, replace: true, "pools.yaml");

        var expected = Existing.Replace("hetzner-base:\n  user: root\n  hosts:\n    - ip: 10.9.9.9\n", Pool.ToYaml(), StringComparison.Ordinal);
        Assert.Equal(expected, merge.Text);
        Assert.True(merge.Replaced);
        Assert.True(merge.KeptOtherPoolsVerbatim);
        Assert.Empty(merge.Notes);
    }

    [Fact]
    public void Merge_ReplaceFirstAndLastPools_CommentsAroundThemKept()
    {
        var first = SshPoolFileWriter.Merge(Existing, Pool with { Name = "office" }, replace: true, "pools.yaml").Text;
        var last = SshPoolFileWriter.Merge(Existing, Pool with { Name = "lab" }, replace: true, "pools.yaml").Text;

        Assert.StartsWith("# Pools for sky ssh up and wf ssh up.\n\n# The office box, keep it.\n" + (Pool with { Name = "office" }).ToYaml() + "\n# Hetzner, written by", first, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", first, StringComparison.Ordinal);
        Assert.EndsWith("\n# The lab, last.\n" + (Pool with { Name = "lab" }).ToYaml(), last, StringComparison.Ordinal);
        Assert.StartsWith(Existing[..Existing.IndexOf("lab:", StringComparison.Ordinal)], last, StringComparison.Ordinal);
    }

    [Fact]
    public void Merge_FlowStyleFile_RewrittenWithNote()
    {
        const string flow = "{office: {user: admin, hosts: [192.168.1.20]}, hetzner-base: {hosts: [10.9.9.9]}}\n";

        var merge = SshPoolFileWriter.Merge(flow, Pool, replace: true, "pools.yaml");

        Assert.False(merge.KeptOtherPoolsVerbatim);
        Assert.Contains("comments and formatting in the other pools were not kept", Assert.Single(merge.Notes), StringComparison.Ordinal);
        var root = Parse(merge.Text);
        Assert.Equal(["office", "hetzner-base"], root.Children.Keys.Select(k => ((YamlScalarNode)k).Value));
        Assert.Equal("admin", ((YamlScalarNode)((YamlMappingNode)root.Children["office"]).Children["user"]).Value);
        Assert.Equal(["203.0.113.10", "203.0.113.11"], Ips(root, "hetzner-base"));
    }

    [Fact]
    public void Merge_AnchorUsedByAnotherPool_NotSplicedApart()
    {
        // `lab` reuses the hosts of `hetzner-base` by alias: cutting hetzner-base's block out would break lab, so the
        // merge must notice and keep lab's content.
        const string anchored = "hetzner-base:\n  hosts: &h\n    - 10.9.9.9\nlab:\n  hosts: *h\n";

        var merge = SshPoolFileWriter.Merge(anchored, Pool, replace: true, "pools.yaml");

        var root = Parse(merge.Text);
        Assert.Equal(["10.9.9.9"], ((YamlSequenceNode)((YamlMappingNode)root.Children["lab"]).Children["hosts"]).Children.Select(n => ((YamlScalarNode)n).Value));
        Assert.Equal(["203.0.113.10", "203.0.113.11"], Ips(root, "hetzner-base"));
        Assert.False(merge.KeptOtherPoolsVerbatim);
    }

    [Theory]
    [InlineData("office:\n  hosts: [1.2.3.4\n", "pools.yaml: line ")]
    [InlineData("- 1.2.3.4\n", "pools.yaml: line 1: the top level is not a map of pool name → pool")]
    [InlineData("a: 1\n---\nb: 2\n", "pools.yaml: 2 YAML documents")]
    public void Merge_BadFile_ErrorNamesFileAndLine(string text, string prefix)
    {
        var e = Assert.Throws<SshPoolFileException>(() => SshPoolFileWriter.Merge(text, Pool, replace: true, "pools.yaml"));

        Assert.StartsWith(prefix, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Write_CreatesFileOwnerOnly_DryRunLeavesItAlone()
    {
        using var dir = new TempDirectory("wf-ssh-tests");
        var path = Path.Combine(dir.Path, "home", "ssh_node_pools.yaml");

        var dry = SshPoolFileWriter.Write(path, Pool, replace: false, dryRun: true);
        Assert.False(dry.Written);
        Assert.False(File.Exists(path));

        var written = SshPoolFileWriter.Write(path, Pool, replace: false);
        Assert.True(written.Written);
        Assert.Equal(Pool.ToYaml(), File.ReadAllText(path));
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));

        Assert.Throws<SshPoolFileException>(() => SshPoolFileWriter.Write(path, Pool with { Hosts = [Pool.Hosts[0]] }, replace: false));
        Assert.Equal(Pool.ToYaml(), File.ReadAllText(path));
        SshPoolFileWriter.Write(path, Pool with { Hosts = [Pool.Hosts[0]] }, replace: true);
        Assert.Equal(["203.0.113.10"], Ips(Parse(File.ReadAllText(path)), "hetzner-base"));
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(path)!, "*.tmp-*"));
    }

    [Fact]
    public void ToYaml_QuotesWhatYamlWouldMisread_RoundTrips()
    {
        var odd = new ImportedSshPool
        {
            Name = "2026",
            User = "yes",
            IdentityFile = "C:\\keys\\my key: \"x\"",
            Port = 2222,
            ProxyJump = "root@[2001:db8::5]",
            Hosts =
            [
                new ImportedSshHost { Ip = "::1", Name = "loop\nback", Source = "s" },
                new ImportedSshHost { Ip = "192.0.2.1", Source = "s" },
                // Digits and colons only: PyYAML (SkyPilot's reader) takes it for a base-60 integer unless quoted.
                new ImportedSshHost { Ip = "1:2:3:4:5:6:7:8", Source = "s" },
                new ImportedSshHost { Ip = "2001:db8::1", Source = "s" },
            ],
        };

        var root = Parse(odd.ToYaml());

        var pool = (YamlMappingNode)root.Children["2026"];
        Assert.Equal("yes", ((YamlScalarNode)pool.Children["user"]).Value);
        Assert.Equal(ScalarStyle.DoubleQuoted, ((YamlScalarNode)pool.Children["user"]).Style);
        Assert.Equal("C:\\keys\\my key: \"x\"", ((YamlScalarNode)pool.Children["identity_file"]).Value);
        Assert.Equal("root@[2001:db8::5]", ((YamlScalarNode)pool.Children["proxy_jump"]).Value);
        Assert.Equal(["::1", "192.0.2.1", "1:2:3:4:5:6:7:8", "2001:db8::1"], Ips(root, "2026"));
        Assert.Contains("    - ip: \"1:2:3:4:5:6:7:8\"\n    - ip: 2001:db8::1\n", odd.ToYaml(), StringComparison.Ordinal);
        Assert.DoesNotContain("# loop", odd.ToYaml(), StringComparison.Ordinal);
    }

    private static YamlMappingNode Parse(string text)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(text));
        return (YamlMappingNode)stream.Documents[0].RootNode;
    }

    private static IEnumerable<string?> Ips(YamlMappingNode root, string pool) =>
        ((YamlSequenceNode)((YamlMappingNode)root.Children[pool]).Children["hosts"]).Children
            .Select(h => ((YamlScalarNode)((YamlMappingNode)h).Children["ip"]).Value);
}
