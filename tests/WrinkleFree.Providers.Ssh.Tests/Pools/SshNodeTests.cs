using WrinkleFree.Providers.Ssh.Pools;

namespace WrinkleFree.Providers.Ssh.Tests.Pools;

public sealed class SshNodeTests
{
    [Fact]
    public void Name_SaysUserHostPortAndJump()
    {
        var bastion = new SshNode { Pool = "p", Host = "203.0.113.1", User = "jump" };
        var node = new SshNode { Pool = "p", Host = "fd00::5", Port = 2222, User = "root", ProxyJump = bastion };

        Assert.Equal("jump@203.0.113.1", bastion.Name);
        Assert.Equal("root@[fd00::5]:2222 (via jump@203.0.113.1)", node.Name);
    }
}
