using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Http;

namespace WrinkleFree.Testing.Kubernetes;

public sealed partial class KubernetesApiTestDouble
{
    /// <summary>The portforward subprotocol the double speaks: channel-prefixed binary frames.</summary>
    public const string PortForwardProtocol = "v4.channel.k8s.io";

    /// <summary>pods/log: the container's lines (tailLines), then with follow=true new ones until the container ends.</summary>
    private async Task LogAsync(HttpContext context, string ns, string name)
    {
        IPodContainer? container;
        lock (_gate)
            container = _pods.GetValueOrDefault((ns, name))?.Container;
        if (container is null)
        {
            var exists = Pods(ns).Any(p => p.Metadata.Name == name);
            await WriteStatusAsync(context, exists ? HttpStatusCode.BadRequest : HttpStatusCode.NotFound, exists ? "BadRequest" : "NotFound",
                exists ? $"container \"replica\" in pod \"{name}\" is waiting to start: ContainerCreating" : $"pods \"{name}\" not found", "pods", name);
            return;
        }

        var follow = context.Request.Query["follow"] is { Count: > 0 } f && f[0] == "true";
        var tail = context.Request.Query["tailLines"] is { Count: > 0 } t ? int.Parse(t[0]!, CultureInfo.InvariantCulture) : (int?)null;
        context.Response.StatusCode = 200;
        context.Response.ContentType = "text/plain";
        var (lines, closed, grew) = container.Log.Read(0);
        var next = tail is { } n ? Math.Max(0, lines.Count - n) : 0;
        while (true)
        {
            for (; next < lines.Count; next++)
                await context.Response.WriteAsync(lines[next] + "\n", context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
            if (!follow || closed)
                return;
            await grew.WaitAsync(context.RequestAborted);
            var offset = next;
            (var more, closed, grew) = container.Log.Read(offset);
            lines = [.. lines.Take(offset), .. more];
        }
    }

    /// <summary>
    /// pods/portforward over WebSocket (v4.channel.k8s.io): for the one port asked, channel 0 carries data and channel 1
    /// errors; the first frame the server sends on each is the port (2 bytes, little-endian); every frame starts with its
    /// channel byte. The port is connected to the pod container's loopback listener.
    /// </summary>
    private async Task PortForwardAsync(HttpContext context, string ns, string name)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            await WriteStatusAsync(context, HttpStatusCode.BadRequest, "BadRequest", "the test double serves portforward only as a WebSocket upgrade (v4.channel.k8s.io)");
            return;
        }

        if (!context.WebSockets.WebSocketRequestedProtocols.Contains(PortForwardProtocol))
        {
            await WriteStatusAsync(context, HttpStatusCode.BadRequest, "BadRequest", $"unsupported subprotocols {string.Join(",", context.WebSockets.WebSocketRequestedProtocols)}; the double speaks {PortForwardProtocol}");
            return;
        }

        int loopback;
        string? refusal = null;
        lock (_gate)
        {
            var entry = _pods.GetValueOrDefault((ns, name));
            loopback = entry?.LoopbackPort ?? 0;
            if (entry is null)
                refusal = $"pods \"{name}\" not found";
            else if (_notReadyNodes.Contains(entry.Pod.Spec.NodeName))
                refusal = $"error dialing backend: dial tcp {entry.Pod.Status.HostIP}:10250: connect: no route to host";
            else if (entry.Container is null || entry.Pod.Status.Phase != "Running")
                refusal = $"unable to upgrade connection: pod {name} is not running (phase {entry.Pod.Status.Phase})";
        }

        if (refusal is not null)
        {
            await WriteStatusAsync(context, refusal.StartsWith("pods", StringComparison.Ordinal) ? HttpStatusCode.NotFound : HttpStatusCode.InternalServerError, "InternalError", refusal, "pods", name);
            return;
        }

        var port = context.Request.Query["ports"] is { Count: > 0 } p ? ushort.Parse(p[0]!, CultureInfo.InvariantCulture) : (ushort)0;
        using var socket = await context.WebSockets.AcceptWebSocketAsync(PortForwardProtocol);
        using var token = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _stopping.Token);
        byte[] prefix = [0, (byte)(port & 0xFF), (byte)(port >> 8)];
        await socket.SendAsync(prefix, WebSocketMessageType.Binary, true, token.Token);
        prefix[0] = 1;
        await socket.SendAsync(prefix, WebSocketMessageType.Binary, true, token.Token);
        using var tcp = new TcpClient();
        try
        {
            await tcp.ConnectAsync(IPAddress.Loopback, loopback, token.Token);
        }
        catch (SocketException e)
        {
            var message = System.Text.Encoding.UTF8.GetBytes($"an error occurred forwarding {port} -> {port}: {e.Message}");
            await socket.SendAsync((byte[])[1, .. message], WebSocketMessageType.Binary, true, token.Token);
            await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, token.Token);
            return;
        }

        var stream = tcp.GetStream();
        var down = Task.Run(async () =>
        {
            var buffer = new byte[64 * 1024];
            buffer[0] = 0;
            int read;
            while ((read = await stream.ReadAsync(buffer.AsMemory(1), token.Token)) > 0)
                await socket.SendAsync(buffer.AsMemory(0, read + 1), WebSocketMessageType.Binary, true, token.Token);
        });
        var up = Task.Run(async () =>
        {
            var buffer = new byte[64 * 1024];
            var first = true;
            while (true)
            {
                var result = await socket.ReceiveAsync(buffer, token.Token);
                if (result.MessageType == WebSocketMessageType.Close)
                    return;
                // A frame's channel byte comes first; a message split over frames carries it once.
                var offset = first ? 1 : 0;
                if (!first || buffer[0] == 0)
                    await stream.WriteAsync(buffer.AsMemory(offset, result.Count - offset), token.Token);
                first = result.EndOfMessage;
            }
        });
        try
        {
            await Task.WhenAny(down, up);
        }
        finally
        {
            await token.CancelAsync();
            try
            {
                if (socket.State == WebSocketState.Open)
                    await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(2));
            }
            catch (Exception e) when (e is WebSocketException or TimeoutException or OperationCanceledException or ObjectDisposedException)
            {
                // The client left first.
            }
        }

        try
        {
            await Task.WhenAll(down, up);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or WebSocketException or ObjectDisposedException or SocketException)
        {
            // Either side went away: the forward ends.
        }
    }
}
