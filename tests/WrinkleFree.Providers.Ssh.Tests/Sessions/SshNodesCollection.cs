namespace WrinkleFree.Providers.Ssh.Tests.Sessions;

/// <summary>The session tests share one set of sshd nodes and run one at a time (some cut links and kill sshd).</summary>
[CollectionDefinition(Name)]
public sealed class SshNodesCollection : ICollectionFixture<SshNodesFixture>
{
    public const string Name = "sshd nodes";
}
