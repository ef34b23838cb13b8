using WrinkleFree.Providers.Ssh.Pools;

namespace WrinkleFree.Providers.Ssh.Tests.Support;

/// <summary>
/// TEST DOUBLE: a <see cref="LocalShellSession"/> whose first <paramref name="corruptUploads"/> uploads arrive with one
/// byte flipped, as a bad link or disk would deliver them.
/// </summary>
internal sealed class CorruptingSession(SshNode node, int corruptUploads) : LocalShellSession(node)
{
    public int Uploads { get; private set; }

    public override async Task UploadAsync(Stream source, string remotePath, long offset, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        await base.UploadAsync(source, remotePath, offset, progress, cancellationToken);
        if (++Uploads <= corruptUploads)
        {
            await using var file = new FileStream(remotePath, FileMode.Open, FileAccess.ReadWrite);
            file.Position = file.Length / 2;
            var b = file.ReadByte();
            file.Position = file.Length / 2;
            file.WriteByte((byte)(b ^ 0x5a));
        }
    }
}
