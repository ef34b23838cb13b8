using System.Net;
using System.Net.Sockets;
using k8s;
using Microsoft.Extensions.Logging;

namespace WrinkleFree.Providers.Kubernetes.Pods;

/// <summary>
/// A loopback port that reaches one pod's container port through the API's portforward subresource: every accepted
/// connection opens its own WebSocket (v4.channel.k8s.io) and bytes are piped both ways, so TLS between the balancer and
/// the replica stays end to end. Used when the daemon runs outside the cluster.
/// </summary>
internal sealed class PodPortForward : IAsyncDisposable
{
    private readonly IKubernetes _client;
    private readonly string _pod;
    private readonly string _namespace;
    private readonly int _podPort;
    private readonly ILogger _logger;
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<Task> _connections = [];
    private Task _accepting = Task.CompletedTask;

    private PodPortForward(IKubernetes client, string pod, string @namespace, int podPort, TcpListener listener, ILogger logger)
    {
        _client = client;
        _pod = pod;
        _namespace = @namespace;
        _podPort = podPort;
        _listener = listener;
        _logger = logger;
    }

    /// <summary>The loopback port the handle's endpoint names.</summary>
    public int LocalPort => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Listens on 127.0.0.1:<paramref name="localPort"/> (0: any free port); throws <see cref="SocketException"/> when it is taken.</summary>
    public static PodPortForward Start(IKubernetes client, string pod, string @namespace, int podPort, int localPort, ILogger logger)
    {
        var listener = new TcpListener(IPAddress.Loopback, localPort);
        listener.Start();
        var forward = new PodPortForward(client, pod, @namespace, podPort, listener, logger);
        forward._accepting = Task.Run(() => forward.AcceptAsync(forward._stopping.Token));
        return forward;
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        _listener.Stop();
        Task[] open;
        lock (_connections)
            open = [.. _connections, _accepting];
        try
        {
            await Task.WhenAll(open).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Stopped.
        }

        _stopping.Dispose();
    }

    private async Task AcceptAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            TcpClient accepted;
            try
            {
                accepted = await _listener.AcceptTcpClientAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException || (e is SocketException && cancellationToken.IsCancellationRequested))
            {
                return;
            }
            catch (SocketException e)
            {
                // One failed accept (a client that reset before it was taken, no descriptors left for a moment) must not
                // end the forward for good: the replica would look unreachable until the daemon restarts.
                Log.ForwardFailed(_logger, _pod, "accepting a connection: " + e.Message);
                // A pause, so a failure that repeats does not spin; a stop ends it and the loop's condition ends the forward.
                await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                continue;
            }

            var connection = Task.Run(() => PipeAsync(accepted, cancellationToken), CancellationToken.None);
            lock (_connections)
            {
                _connections.RemoveAll(t => t.IsCompleted);
                _connections.Add(connection);
            }
        }
    }

    private async Task PipeAsync(TcpClient accepted, CancellationToken cancellationToken)
    {
        using var tcp = accepted;
        try
        {
            using var socket = await _client.WebSocketNamespacedPodPortForwardAsync(
                _pod, _namespace, [_podPort], WebSocketProtocol.V4BinaryWebsocketProtocol, cancellationToken: cancellationToken).ConfigureAwait(false);
            using var demuxer = new StreamDemuxer(socket, StreamType.PortForward);
            demuxer.Start();
            // Channel 0 carries the port's data (the demuxer drops the 2-byte port prefix of its first frame); channel 1
            // its errors, which end the connection as well. The demuxer's stream has no async reads of its own (the
            // base Stream would serialize a pending read with every write), so reads block on a thread of their own and
            // writes go to the demuxer directly.
            using var remote = demuxer.GetStream((byte?)0, null);
            var local = tcp.GetStream();
            using var done = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var up = UpAsync(local, demuxer, done.Token);
            var down = Task.Factory.StartNew(() => Down(remote, local), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
            await Task.WhenAny(up, down).ConfigureAwait(false);
            await done.CancelAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // The client sees its connection close: the balancer retries on another replica.
            Log.ForwardFailed(_logger, _pod, KubernetesApiErrors.MessageOf(e));
        }
    }

    private static async Task UpAsync(NetworkStream local, StreamDemuxer demuxer, CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            int read;
            while ((read = await local.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
                await demuxer.Write((byte)0, buffer, 0, read, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException or System.Net.WebSockets.WebSocketException)
        {
            // Either side went away: the connection ends.
        }
    }

    private static void Down(Stream remote, NetworkStream local)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            int read;
            while ((read = remote.Read(buffer, 0, buffer.Length)) > 0)
                local.Write(buffer, 0, read);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
        {
            // Either side went away: the connection ends.
        }
    }
}
