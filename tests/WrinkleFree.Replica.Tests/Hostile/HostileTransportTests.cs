using System.Text;
using WrinkleFree.Testing.Hostile;
using Xunit.Abstractions;

namespace WrinkleFree.Replica.Tests.Hostile;

/// <summary>
/// Hostile HTTP below the JSON: bodies over the limit (declared, chunked, never-ending), a client that trickles its body,
/// header floods and broken framing, over raw sockets against a real replica. Each gets a 4xx (Kestrel's own verdicts
/// before any handler may have an empty body), never a 5xx or a hang, and the replica serves afterwards.
/// </summary>
public sealed class HostileTransportTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private HostileReplica _replica = null!;

    public async Task InitializeAsync() => _replica = await HostileReplica.StartAsync();

    public async Task DisposeAsync() => await _replica.DisposeAsync();

    [Fact]
    public async Task Post_BodiesOverTheLimit_413()
    {
        var tally = new HostileTally("huge bodies");
        var huge = Encoding.ASCII.GetBytes("{\"prompt\": \"" + new string('x', (int)HostileReplica.BodyLimit * 2) + "\"}");
        foreach (var path in HostileReplica.JsonEndpoints)
        {
            // Declared too large: refused on the headers.
            var declared = await RawHttp.SendAsync(_replica.Address, RawHttp.Request("POST", path, huge), Deadline);
            tally.Record($"{path} Content-Length {huge.Length}", declared);
            Assert.Equal(413, declared?.Status);

            // Chunked, so the size shows only while reading.
            var (chunked, _) = await RawHttp.SendEndlessAsync(_replica.Address, ChunkedHead(path), Chunk(64 * 1024), HostileReplica.BodyLimit * 4, TimeSpan.Zero, Deadline);
            tally.Record($"{path} chunked over the limit", chunked);
            Assert.Equal(413, chunked?.Status);
        }

        await Finish(tally);
    }

    [Fact]
    public async Task Post_NeverEndingChunkedBody_413AtTheLimit()
    {
        var tally = new HostileTally("never-ending chunked body");
        foreach (var path in HostileReplica.JsonEndpoints)
        {
            // Sends chunks until the replica answers; it must answer long before 64 times its limit.
            var (response, sent) = await RawHttp.SendEndlessAsync(_replica.Address, ChunkedHead(path), Chunk(4096), HostileReplica.BodyLimit * 64, TimeSpan.Zero, Deadline);
            tally.Record($"{path} endless chunks ({sent} bytes sent)", response);
            Assert.Equal(413, response?.Status);
            Assert.True(sent < HostileReplica.BodyLimit * 64, $"the replica read {sent} bytes without answering");
        }

        await Finish(tally);
    }

    [Fact]
    public async Task Post_SlowClientTricklingItsBody_RejectedByTheDataRateLimit()
    {
        var tally = new HostileTally("slow client");
        // Declares 100 kB, then sends one byte at a time with pauses: far below Kestrel's minimum body data rate (240 B/s after
        // a 5 s grace). The replica must give up on it within the deadline rather than hold the connection for ever.
        var head = Encoding.ASCII.GetBytes("POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{");
        var (response, sent) = await RawHttp.SendEndlessAsync(_replica.Address, head, " "u8.ToArray(), 100_000, TimeSpan.FromMilliseconds(250), Deadline);
        output.WriteLine($"slow client: {sent} bytes trickled before the answer {response?.Status}");
        tally.Record("trickled body", response, bareAllowed: true);
        Assert.True(sent < 100_000, "the replica waited for the whole trickled body");
        Assert.Equal(408, response?.Status);
        await Finish(tally);
    }

    [Fact]
    public async Task Request_HeaderFloodsAndBrokenFraming_4xx()
    {
        var tally = new HostileTally("header floods and framing");
        var valid = Encoding.UTF8.GetBytes(HostileReplica.ValidBody("/v1/completions"));
        var cases = new (string Name, byte[] Request)[]
        {
            ("1000 headers", RawHttp.Request("POST", "/v1/completions", valid, headers: Enumerable.Range(0, 1000).Select(i => $"X-Flood-{i}: {new string('a', 100)}"))),
            ("one 64 kB header", RawHttp.Request("POST", "/v1/completions", valid, headers: [$"X-Big: {new string('b', 65536)}"])),
            ("64 kB path", RawHttp.Request("POST", "/v1/completions?" + new string('q', 65536), valid)),
            ("64 kB request id", RawHttp.Request("POST", "/v1/completions", valid, headers: [$"X-Request-Id: {new string('r', 60000)}"])),
            ("garbage request line", "HELLO THERE\r\n\r\n"u8.ToArray()),
            ("binary request line", [0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03, 0x0d, 0x0a, 0x0d, 0x0a]),
            ("negative content length", Encoding.ASCII.GetBytes("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n")),
            ("two content lengths", Encoding.ASCII.GetBytes("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\n{}")),
            ("length and chunked", Encoding.ASCII.GetBytes("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")),
            ("bad chunk size", Encoding.ASCII.GetBytes("POST /v1/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n")),
            ("huge chunk size", Encoding.ASCII.GetBytes("POST /v1/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFF\r\n{}\r\n0\r\n\r\n")),
            ("unknown transfer encoding", Encoding.ASCII.GetBytes("POST /v1/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n{}")),
            ("header without colon", Encoding.ASCII.GetBytes("POST /v1/completions HTTP/1.1\r\nHost: x\r\nNoColonHere\r\nContent-Length: 2\r\n\r\n{}")),
            ("nul in header", [.. "POST /v1/completions HTTP/1.1\r\nHost: x\r\nX-A: a"u8, 0, .. "b\r\nContent-Length: 2\r\n\r\n{}"u8]),
            ("HTTP/9.9", Encoding.ASCII.GetBytes("POST /v1/completions HTTP/9.9\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")),
            ("no host", Encoding.ASCII.GetBytes("POST /v1/completions HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}")),
            ("short body for its length", Encoding.ASCII.GetBytes("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\nConnection: close\r\n\r\n{}")),
        };
        foreach (var (name, request) in cases)
        {
            using var stop = new CancellationTokenSource(Deadline);
            RawResponse? response;
            if (name == "short body for its length")
            {
                // Half-closes after the short body: the replica sees the end of the body before Content-Length.
                using var client = new System.Net.Sockets.TcpClient();
                await client.ConnectAsync(_replica.Address.Host, _replica.Address.Port, stop.Token);
                var stream = client.GetStream();
                await stream.WriteAsync(request, stop.Token);
                client.Client.Shutdown(System.Net.Sockets.SocketShutdown.Send);
                response = await RawHttp.ReadResponseAsync(stream, stop.Token);
                // An aborted body leaves nobody to answer: a closed connection is the right outcome, not a crash.
                if (response is null)
                {
                    tally.Record(name, 400, "", bareAllowed: true);
                    continue;
                }
            }
            else
            {
                response = await RawHttp.SendAsync(_replica.Address, request, Deadline);
            }

            tally.Record(name, response, bareAllowed: true);
        }

        await Finish(tally);
    }

    private async Task Finish(HostileTally tally)
    {
        await _replica.AssertStillServingAsync(tally);
        tally.Report(output.WriteLine);
        tally.AssertClean();
    }

    private static byte[] ChunkedHead(string path) =>
        Encoding.ASCII.GetBytes($"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");

    /// <summary>One chunk of <paramref name="size"/> bytes of a JSON string's inside, in chunked framing.</summary>
    private static byte[] Chunk(int size) =>
        [.. Encoding.ASCII.GetBytes($"{size:X}\r\n"), .. Enumerable.Repeat((byte)'x', size), .. "\r\n"u8];
}
