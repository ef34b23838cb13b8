using System.Runtime.CompilerServices;
using Renci.SshNet;
using Renci.SshNet.Common;
using Renci.SshNet.Sftp;
using WrinkleFree.Providers.Ssh.Pools;

namespace WrinkleFree.Providers.Ssh.Sessions;

/// <summary>
/// One node's SSH.NET connection: commands on the <see cref="SshClient"/>, files on an <see cref="SftpClient"/> opened on
/// first use over the same route, forwarded ports, and a liveness probe so a dead link shows in <see cref="IsConnected"/>.
/// Disposing it disposes the jump session it was reached through.
/// </summary>
internal sealed class SshNetSession : ISshSession
{
    private const int CopyBufferSize = 64 * 1024;

    private readonly SshClient _client;
    private readonly (string Host, int Port) _endpoint;
    private readonly SshNetConnector _connector;
    private readonly SshNetSession? _jump;
    private readonly SshConnectOptions _options;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _sftpGate = new(1, 1);
    private readonly CancellationTokenSource _closing = new();
    private readonly List<ForwardedPortLocal> _ports = [];
    private readonly Task _probe;
    private SftpClient? _sftp;
    private volatile bool _probeFailed;
    private int _disposed;

    public SshNetSession(
        SshNode node, SshClient client, (string Host, int Port) endpoint, SshNetConnector connector, SshNetSession? jump,
        SshConnectOptions options, TimeProvider time)
    {
        Node = node;
        _client = client;
        _endpoint = endpoint;
        _connector = connector;
        _jump = jump;
        _options = options;
        _time = time;
        _probe = ProbeAsync(_closing.Token);
    }

    public SshNode Node { get; }

    public bool IsConnected => Volatile.Read(ref _disposed) == 0 && !_probeFailed && _client.IsConnected && (_jump?.IsConnected ?? true);

    public async Task<SshCommandResult> RunAsync(string command, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(command);
        using var deadline = new CancellationTokenSource(timeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        using var ssh = Create(command);
        try
        {
            await ssh.ExecuteAsync(linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"{Node.Name}: command did not finish within {timeout.TotalSeconds:0.###} s: {command}");
        }
        catch (Exception error) when (error is SshException or System.Net.Sockets.SocketException or ObjectDisposedException)
        {
            throw new SshNodeException(Node, $"connection lost running {command}: {error.Message}", error);
        }

        return new SshCommandResult(ssh.ExitStatus ?? -1, ssh.Result, ssh.Error);
    }

    /// <summary>Yields stdout lines as they arrive; ends quietly when the command ends or the token is cancelled (which kills the remote command).</summary>
    public async IAsyncEnumerable<string> StreamLinesAsync(string command, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(command);
        var ssh = Create(command);
        // ExecuteAsync signals the remote command on cancellation and then closes OutputStream, which ends the reads below.
        var execution = ssh.ExecuteAsync(cancellationToken);
        var reader = new StreamReader(ssh.OutputStream);
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                string? line;
                try
                {
                    line = await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }

                if (line is null)
                {
                    break;
                }

                yield return line;
            }
        }
        finally
        {
            if (!execution.IsCompleted)
            {
                ssh.CancelAsync(forceKill: true);
            }

            try
            {
                await execution.ConfigureAwait(false);
            }
            catch (Exception error) when (error is OperationCanceledException or SshException)
            {
                // Cancelled by the caller, or the connection went away: the stream simply ends.
            }

            reader.Dispose();
            ssh.Dispose();
        }
    }

    public async Task<long?> GetFileSizeAsync(string remotePath, CancellationToken cancellationToken)
    {
        var sftp = await SftpAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var attributes = await sftp.GetAttributesAsync(remotePath, cancellationToken).ConfigureAwait(false);
            return attributes.IsRegularFile ? attributes.Size : null;
        }
        catch (SftpPathNotFoundException)
        {
            return null;
        }
        catch (Exception error) when (error is SshException and not SshOperationTimeoutException)
        {
            throw new SshNodeException(Node, $"cannot stat {remotePath}: {error.Message}", error);
        }
    }

    public async Task UploadAsync(Stream source, string remotePath, long offset, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        var sftp = await SftpAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await CreateParentsAsync(sftp, remotePath, cancellationToken).ConfigureAwait(false);
            if (offset == 0)
            {
                // A fresh file goes through SSH.NET's upload, which keeps several write requests in flight; a stream's
                // writes wait for each answer in turn, which made copies 3-4x slower than OpenSSH's scp here.
                await sftp.UploadFileAsync(source, remotePath, canOverride: true,
                    progress is null ? null : new Progress(done => progress.Report(done)), cancellationToken).ConfigureAwait(false);
                return;
            }

            var mode = FileMode.OpenOrCreate;
            await using var remote = await sftp.OpenAsync(remotePath, mode, FileAccess.Write, cancellationToken).ConfigureAwait(false);
            {
                var size = remote.Length;
                if (size < offset)
                {
                    throw new SshNodeException(Node, $"cannot resume {remotePath} at byte {offset}: the node has only {size} bytes of it");
                }

                // Whatever lies past the resume point is from an interrupted write: drop it before appending.
                remote.SetLength(offset);
                remote.Seek(offset, SeekOrigin.Begin);
            }

            var buffer = new byte[CopyBufferSize];
            var written = offset;
            int read;
            while ((read = await source.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                await remote.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                written += read;
                progress?.Report(written);
            }

            await remote.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception error) when (error is SshException or System.Net.Sockets.SocketException)
        {
            throw new SshNodeException(Node, $"upload to {remotePath} failed: {error.Message}", error);
        }
    }

    public Task<int> ForwardLocalPortAsync(string remoteHost, int remotePort, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(remoteHost);
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(Forward(_client, remoteHost, remotePort));
    }

    /// <summary>A loopback port through this session to <paramref name="node"/>'s sshd, for a node that uses this one as its jump host.</summary>
    internal int OpenTunnel(SshNode node) => Forward(_client, node.Host, node.Port);

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _closing.CancelAsync().ConfigureAwait(false);
        try
        {
            await _probe.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The probe loop ends this way.
        }

        finally
        {
            // Whatever the probe ended with, the ports, clients and the jump session are closed: a leaked jump
            // connection would hold a login open on the bastion.
            lock (_ports)
            {
                foreach (var port in _ports)
                {
                    port.Dispose();
                }

                _ports.Clear();
            }

            _sftp?.Dispose();
            _client.Dispose();
            _sftpGate.Dispose();
            _closing.Dispose();
            if (_jump is not null)
            {
                await _jump.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private SshCommand Create(string command)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        try
        {
            return _client.CreateCommand(command);
        }
        catch (SshConnectionException error)
        {
            throw new SshNodeException(Node, $"not connected: {error.Message}", error);
        }
    }

    private int Forward(SshClient client, string host, int port)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var forwarded = new ForwardedPortLocal("127.0.0.1", 0, host, (uint)port);
        try
        {
            client.AddForwardedPort(forwarded);
            forwarded.Start();
        }
        catch (Exception error) when (error is SshException or System.Net.Sockets.SocketException)
        {
            forwarded.Dispose();
            throw new SshNodeException(Node, $"cannot forward a local port to {host}:{port}: {error.Message}", error);
        }

        lock (_ports)
        {
            _ports.Add(forwarded);
        }

        return checked((int)forwarded.BoundPort);
    }

    private async Task<SftpClient> SftpAsync(CancellationToken cancellationToken)
    {
        await _sftpGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
            if (_sftp is { IsConnected: true } open)
            {
                return open;
            }

            _sftp?.Dispose();
            _sftp = await _connector.ConnectClientAsync(Node, _endpoint, info => new SftpClient(info), cancellationToken).ConfigureAwait(false);
            return _sftp;
        }
        finally
        {
            _sftpGate.Release();
        }
    }

    private static async Task CreateParentsAsync(SftpClient sftp, string remotePath, CancellationToken cancellationToken)
    {
        var slash = remotePath.LastIndexOf('/');
        if (slash <= 0)
        {
            return;
        }

        var parts = remotePath[..slash].Split('/');
        var path = remotePath.StartsWith('/') ? "" : ".";
        foreach (var part in parts)
        {
            if (part.Length == 0)
            {
                continue;
            }

            path = $"{path}/{part}";
            if (!await sftp.ExistsAsync(path, cancellationToken).ConfigureAwait(false))
            {
                await sftp.CreateDirectoryAsync(path, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    // SSH keep-alives alone never fail on a dead link (TCP keeps retrying for minutes), so every interval the session
    // opens a channel and runs `true`, which needs the node's answer. Two misses in a row (each bounded by the connect
    // timeout) mark it dead: one slow answer from a loaded node is not a dead link.
    private async Task ProbeAsync(CancellationToken cancellationToken)
    {
        await Task.Yield();
        using var timer = new PeriodicTimer(_options.KeepAliveInterval, _time);
        var misses = 0;
        while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
        {
            if (!_client.IsConnected)
            {
                _probeFailed = true;
                return;
            }

            try
            {
                await RunAsync("true", _options.ConnectTimeout, cancellationToken).ConfigureAwait(false);
                misses = 0;
            }
            catch (ObjectDisposedException) when (Volatile.Read(ref _disposed) != 0)
            {
                // DisposeAsync marks the session disposed before it cancels this loop: a tick in between lands here.
                return;
            }
            catch (Exception error) when (error is TimeoutException or SshNodeException or SshException)
            {
                if (++misses >= 2 || !_client.IsConnected)
                {
                    _probeFailed = true;
                    return;
                }
            }
        }
    }

    // SSH.NET reports bytes uploaded so far; callers want the same count as a long.
    private sealed class Progress(Action<long> report) : IProgress<UploadFileProgressReport>
    {
        public void Report(UploadFileProgressReport value) => report((long)value.TotalBytesUploaded);
    }
}
