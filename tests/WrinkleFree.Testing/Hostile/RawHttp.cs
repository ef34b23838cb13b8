using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace WrinkleFree.Testing.Hostile;

/// <summary>
/// HTTP/1.1 over a bare socket, for requests HttpClient will not send: broken framing, bodies that never end or trickle,
/// header floods, raw invalid UTF-8. Written here because no client library sends malformed HTTP on purpose. Every read
/// has a deadline; a connection closed without a response reads as null.
/// </summary>
public static class RawHttp
{
    /// <summary>A request with <paramref name="body"/> and a Content-Length, plus <paramref name="headers"/> (lines without CRLF).</summary>
    public static byte[] Request(string method, string path, byte[] body, string contentType = "application/json", IEnumerable<string>? headers = null)
    {
        var head = new StringBuilder();
        head.Append(CultureInfo.InvariantCulture, $"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {contentType}\r\nContent-Length: {body.Length}\r\n");
        foreach (var h in headers ?? [])
        {
            head.Append(h).Append("\r\n");
        }

        head.Append("\r\n");
        return [.. Encoding.ASCII.GetBytes(head.ToString()), .. body];
    }

    /// <summary>Sends <paramref name="request"/> whole and reads the response.</summary>
    public static async Task<RawResponse?> SendAsync(Uri baseUrl, byte[] request, TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        using var client = new TcpClient();
        await client.ConnectAsync(baseUrl.Host, baseUrl.Port, cancel.Token);
        var stream = client.GetStream();
        try
        {
            await stream.WriteAsync(request, cancel.Token);
        }
        catch (IOException)
        {
            // The server may answer and close before it has read everything (e.g. 413 on the headers alone).
        }

        return await ReadResponseAsync(stream, cancel.Token);
    }

    /// <summary>
    /// Sends <paramref name="head"/>, then <paramref name="chunk"/> over and over (up to <paramref name="maxBytes"/>) until
    /// the server answers: a body that never ends, or one that trickles when <paramref name="pause"/> is set. Returns the
    /// response and how many body bytes were sent before it came.
    /// </summary>
    public static async Task<(RawResponse? Response, long Sent)> SendEndlessAsync(
        Uri baseUrl, byte[] head, byte[] chunk, long maxBytes, TimeSpan pause, TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        using var client = new TcpClient();
        await client.ConnectAsync(baseUrl.Host, baseUrl.Port, cancel.Token);
        var stream = client.GetStream();
        await stream.WriteAsync(head, cancel.Token);
        var response = ReadResponseAsync(stream, cancel.Token);
        long sent = 0;
        try
        {
            while (!response.IsCompleted && sent < maxBytes)
            {
                await stream.WriteAsync(chunk, cancel.Token);
                sent += chunk.Length;
                if (pause > TimeSpan.Zero)
                {
                    // Waits for the response or the next trickle, whichever first: no sleep decides the outcome.
                    await Task.WhenAny(response, Task.Delay(pause, cancel.Token));
                }
            }
        }
        catch (IOException)
        {
            // The server closed its side after answering.
        }

        return (await response, sent);
    }

    /// <summary>Reads one response (Content-Length, chunked, or to the close); null when the connection closed before a status line.</summary>
    public static async Task<RawResponse?> ReadResponseAsync(Stream stream, CancellationToken cancellationToken)
    {
        var buffer = new List<byte>();
        var chunk = new byte[16384];
        int headEnd;
        while ((headEnd = IndexOf(buffer, "\r\n\r\n"u8)) < 0)
        {
            var n = await ReadSomeAsync(stream, chunk, cancellationToken);
            if (n == 0)
            {
                return null;
            }

            buffer.AddRange(chunk.AsSpan(0, n));
        }

        var head = Encoding.ASCII.GetString([.. buffer.GetRange(0, headEnd)]).Split("\r\n");
        var status = int.Parse(head[0].Split(' ')[1], CultureInfo.InvariantCulture);
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var line in head.Skip(1))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0)
            {
                headers[line[..colon].Trim().ToLowerInvariant()] = line[(colon + 1)..].Trim();
            }
        }

        var rest = buffer.GetRange(headEnd + 4, buffer.Count - headEnd - 4);
        async Task<bool> More()
        {
            var n = await ReadSomeAsync(stream, chunk, cancellationToken);
            rest.AddRange(chunk.AsSpan(0, n));
            return n > 0;
        }

        if (headers.TryGetValue("content-length", out var length))
        {
            var want = int.Parse(length, CultureInfo.InvariantCulture);
            while (rest.Count < want && await More())
            {
            }

            return new RawResponse(status, headers, [.. rest.Take(want)]);
        }

        if (headers.TryGetValue("transfer-encoding", out var te) && te.Contains("chunked", StringComparison.OrdinalIgnoreCase))
        {
            var body = new List<byte>();
            var at = 0;
            while (true)
            {
                int lineEnd;
                while ((lineEnd = IndexOf(rest, "\r\n"u8, at)) < 0)
                {
                    if (!await More())
                    {
                        return new RawResponse(status, headers, [.. body]);
                    }
                }

                var size = int.Parse(Encoding.ASCII.GetString([.. rest.GetRange(at, lineEnd - at)]).Split(';')[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                if (size == 0)
                {
                    return new RawResponse(status, headers, [.. body]);
                }

                while (rest.Count < lineEnd + 2 + size + 2 && await More())
                {
                }

                body.AddRange(rest.GetRange(lineEnd + 2, Math.Min(size, rest.Count - lineEnd - 2)));
                at = lineEnd + 2 + size + 2;
            }
        }

        if (status is 204 or 304 || (headers.TryGetValue("connection", out var c) && !c.Contains("close", StringComparison.OrdinalIgnoreCase)))
        {
            return new RawResponse(status, headers, [.. rest]);
        }

        while (await More())
        {
        }

        return new RawResponse(status, headers, [.. rest]);
    }

    private static async Task<int> ReadSomeAsync(Stream stream, byte[] chunk, CancellationToken cancellationToken)
    {
        try
        {
            return await stream.ReadAsync(chunk, cancellationToken);
        }
        catch (IOException)
        {
            return 0;
        }
    }

    private static int IndexOf(List<byte> data, ReadOnlySpan<byte> needle, int from = 0)
    {
        for (var i = from; i <= data.Count - needle.Length; i++)
        {
            var match = true;
            for (var j = 0; j < needle.Length && match; j++)
            {
                match = data[i + j] == needle[j];
            }

            if (match)
            {
                return i;
            }
        }

        return -1;
    }
}
