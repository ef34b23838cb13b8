using WrinkleFree.Providers.Ssh.Pools;
using WrinkleFree.Testing;

namespace WrinkleFree.Providers.Ssh.Tests.Pools;

public sealed class SshNodePoolsTests
{
    private const string DesignExample = """
        hetzner-base:
          user: root
          identity_file: ~/.ssh/hetzner_ed25519
          hosts:
            - ip: 10.0.1.100
              # Optional: Override per-node
              # user: deploy
              # identity_file: ~/.ssh/node1_key
            - ip: 10.0.1.101
            - ip: 10.0.1.102
        """;

    [Fact]
    public void Parse_DesignExample_ThreeNodesWithPoolDefaults()
    {
        var pools = SshNodePools.Parse(DesignExample, "pools.yaml");

        var pool = Assert.Single(pools.Pools);
        Assert.Equal("hetzner-base", pool.Name);
        Assert.Null(pool.ReplicasPerNode);
        Assert.Equal(["10.0.1.100", "10.0.1.101", "10.0.1.102"], pool.Nodes.Select(n => n.Host));
        Assert.All(pool.Nodes, n =>
        {
            Assert.Equal("hetzner-base", n.Pool);
            Assert.Equal("root", n.User);
            Assert.Equal(22, n.Port);
            Assert.Equal("~/.ssh/hetzner_ed25519", n.IdentityFile);
            Assert.Null(n.Password);
            Assert.Null(n.ProxyJump);
        });
    }

    [Fact]
    public void Parse_StringAndMapHostsWithOverrides_HostValuesWin()
    {
        var pools = SshNodePools.Parse("""
            a:
              user: root
              identity_file: ~/.ssh/a
              port: 2222
              replicas_per_node: 3
              hosts:
                - 192.0.2.1
                - {ip: 192.0.2.2, user: deploy, port: 22, identity_file: /keys/b}
                - ip: "fd00::5"
                  password: secret
            b:
              user: admin
              password: pw
              hosts: ["198.51.100.7"]
            """);

        var a = pools.Get("a");
        Assert.Equal(3, a.ReplicasPerNode);
        Assert.Equal(new SshNode { Pool = "a", Host = "192.0.2.1", Port = 2222, User = "root", IdentityFile = "~/.ssh/a" }, a.Nodes[0]);
        Assert.Equal(new SshNode { Pool = "a", Host = "192.0.2.2", Port = 22, User = "deploy", IdentityFile = "/keys/b" }, a.Nodes[1]);
        Assert.Equal(new SshNode { Pool = "a", Host = "fd00::5", Port = 2222, User = "root", IdentityFile = "~/.ssh/a", Password = "secret" }, a.Nodes[2]);
        var b = Assert.Single(pools.Get("b").Nodes);
        Assert.Equal(("admin", "pw", (string?)null), (b.User, b.Password, b.IdentityFile));
    }

    [Fact]
    public void Parse_ProxyJump_PoolDefaultAndHostOverride()
    {
        var pools = SshNodePools.Parse("""
            private:
              user: root
              identity_file: ~/.ssh/k
              proxy_jump: jump@203.0.113.9:2200
              hosts:
                - 10.0.0.5
                - {ip: 10.0.0.6, proxy_jump: "[2001:db8::1]"}
                - {ip: 10.0.0.7, proxy_jump: bastion.example}
            """);

        var nodes = pools.Get("private").Nodes;
        Assert.Equal(new SshNode { Pool = "private", Host = "203.0.113.9", Port = 2200, User = "jump", IdentityFile = "~/.ssh/k" }, nodes[0].ProxyJump);
        Assert.Equal(new SshNode { Pool = "private", Host = "2001:db8::1", User = "root", IdentityFile = "~/.ssh/k" }, nodes[1].ProxyJump);
        Assert.Equal("bastion.example", nodes[2].ProxyJump!.Host);
        Assert.Equal("root@10.0.0.5 (via jump@203.0.113.9:2200)", nodes[0].Name);
    }

    [Fact]
    public void Get_UnknownPool_ListsPools()
    {
        var pools = SshNodePools.Parse(DesignExample, "pools.yaml");

        var error = Assert.Throws<SshPoolFileException>(() => pools.Get("hetzner"));

        Assert.Contains("no pool named 'hetzner'", error.Message, StringComparison.Ordinal);
        Assert.Contains("hetzner-base", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("p:\n  user: root\n  hosts:\n    - 1.2.3.4\n    - {ip: 1.2.3.5, idenity_file: x}\n", "p.hosts[1].idenity_file", 5, "unknown key; known: ip, user, identity_file")]
    [InlineData("p:\n  usr: root\n  hosts: [1.2.3.4]\n", "p.usr", 2, "did you mean 'user'")]
    [InlineData("p:\n  hosts:\n    - 1.2.3.4\n", "p.hosts[0].user", 3, "missing")]
    [InlineData("p:\n  user: root\n  hosts:\n    - {user: x}\n", "p.hosts[0].ip", 4, "missing")]
    [InlineData("p:\n  user: root\n  hosts: []\n", "p.hosts", 3, "non-empty list")]
    [InlineData("p:\n  user: root\n", "p.hosts", 2, "missing")]
    [InlineData("p:\n  user: root\n  port: 70000\n  hosts: [1.2.3.4]\n", "p.port", 3, "1 to 65535")]
    [InlineData("p:\n  user: root\n  hosts:\n    - {ip: 1.2.3.4, port: ssh}\n", "p.hosts[0].port", 4, "1 to 65535")]
    [InlineData("p:\n  user: root\n  hosts:\n    - 1.2.3.4\n    - {ip: 1.2.3.4, port: 22}\n", "p.hosts[1]", 5, "duplicate host 1.2.3.4")]
    [InlineData("p:\n  user: root\n  replicas_per_node: 0\n  hosts: [1.2.3.4]\n", "p.replicas_per_node", 3, "at least 1")]
    [InlineData("p:\n  user: root\n  proxy_jump: j@h:x\n  hosts: [1.2.3.4]\n", "p.proxy_jump", 3, "port 'x'")]
    [InlineData("p:\n  user: root\n  hosts:\n    - [1, 2]\n", "p.hosts[0]", 4, "must be an address")]
    [InlineData("p: [a]\n", "p", 1, "must be a mapping")]
    [InlineData("p:\n  user: root\n  hosts: [1.2.3.4\n", "", 4, "YAML syntax error")]
    public void Parse_BadFile_ErrorNamesKeyPathAndLine(string yaml, string keyPath, int line, string detail)
    {
        var error = Assert.Throws<SshPoolFileException>(() => SshNodePools.Parse(yaml, "pools.yaml"));

        Assert.Equal(keyPath, error.KeyPath);
        Assert.Equal(line, error.Line);
        Assert.Contains(detail, error.Detail, StringComparison.Ordinal);
        Assert.StartsWith("pools.yaml: ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_EmptyOrNestedTooDeep_IsAnError()
    {
        Assert.Contains("no pools", Assert.Throws<SshPoolFileException>(() => SshNodePools.Parse("# nothing\n")).Message, StringComparison.Ordinal);
        var deep = "p: " + new string('[', 100) + new string(']', 100);
        Assert.Contains("nests deeper", Assert.Throws<SshPoolFileException>(() => SshNodePools.Parse(deep)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DefaultPath_PrefersWfHome_ElseSkyFolder()
    {
        using var home = new TempDirectory("wf-ssh-tests");
        var sky = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".sky", SshNodePools.FileName);
        Assert.Equal(sky, SshNodePools.DefaultPath(home.Path));

        var ours = Path.Combine(home.Path, SshNodePools.FileName);
        File.WriteAllText(ours, DesignExample);
        Assert.Equal(ours, SshNodePools.DefaultPath(home.Path));
        Assert.Equal(3, SshNodePools.Load(ours).Get("hetzner-base").Nodes.Count);
    }

    [Fact]
    public void Load_MissingFile_ErrorNamesFile()
    {
        using var home = new TempDirectory("wf-ssh-tests");
        var path = Path.Combine(home.Path, "nope.yaml");

        var error = Assert.Throws<SshPoolFileException>(() => SshNodePools.Load(path));

        Assert.Equal(path, error.File);
        Assert.Contains("cannot read", error.Message, StringComparison.Ordinal);
    }
}
