using System.Text;
using WrinkleFree.Service.Tests.Observability;
using WrinkleFree.Testing.Hostile;
using Xunit.Abstractions;

namespace WrinkleFree.Service.Tests.Hostile;

/// <summary>
/// Scripted hostile requests through a real load balancer to real replicas: every answer a 4xx in the OpenAI error shape
/// (bare only where the balancer's HTTP server refuses the request itself), no replica in cooldown, no process dead, and a
/// valid request served after each batch.
/// </summary>
public sealed class BalancerHostileTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly string[] GenerationPaths = ["/v1/completions", "/v1/chat/completions"];

    private HostileBalancer _lb = null!;

    public async Task InitializeAsync() => _lb = await HostileBalancer.StartAsync();

    public async Task DisposeAsync() => await _lb.DisposeAsync();

    [Fact]
    public async Task Post_MalformedJsonAndWrongTypesThroughTheBalancer_4xxAndNoCooldown()
    {
        var tally = new HostileTally("balancer: malformed JSON and wrong types");
        foreach (var path in GenerationPaths)
        {
            var valid = Valid(path);
            foreach (var (name, body) in HostileBodies.MalformedJson(valid))
            {
                var (status, text) = await _lb.PostAsync(path, body);
                tally.Record($"{path} {name}", status, text);
            }

            foreach (var (kind, json) in HostileBodies.EveryKind)
            {
                foreach (var field in new[] { "prompt", "messages", "max_tokens", "temperature", "n", "stream", "stop" })
                {
                    var node = System.Text.Json.Nodes.JsonNode.Parse(valid)!.AsObject();
                    node[field] = System.Text.Json.Nodes.JsonNode.Parse(json);
                    var (status, text) = await _lb.PostAsync(path, Encoding.UTF8.GetBytes(node.ToJsonString()));
                    tally.Record($"{path} {field} = {kind}", status, text, mayAccept: true);
                }
            }
        }

        await Finish(tally);
    }

    [Fact]
    public async Task Post_InvalidUtf8ThroughTheBalancer_400AndNoCooldown()
    {
        var tally = new HostileTally("balancer: invalid UTF-8 and lone surrogates");
        foreach (var path in GenerationPaths)
        {
            var parts = (path == "/v1/completions" ? """{"prompt": "X", "max_tokens": 1}""" : """{"messages": [{"role": "user", "content": "X"}], "max_tokens": 1}""").Split('X');
            foreach (var bad in new byte[][] { [0xFF], [0xC3, 0x28], [.. "\\ud800"u8] })
            {
                var (status, text) = await _lb.PostAsync(path, [.. Encoding.UTF8.GetBytes(parts[0]), .. bad, .. Encoding.UTF8.GetBytes(parts[1])]);
                tally.Record($"{path} {Convert.ToHexString(bad)}", status, text);
            }
        }

        await Finish(tally);
    }

    [Fact]
    public async Task Post_BodiesOverTheReplicaLimitThroughTheBalancer_413AndNoCooldown()
    {
        // 10 MB: under the balancer's limit (16 MiB), over the replicas' (8 MiB), so the replica refuses it mid-forward.
        var tally = new HostileTally("balancer: bodies over the limit");
        var huge = Encoding.ASCII.GetBytes("{\"prompt\": \"" + new string('x', 10_000_000) + "\"}");
        var declared = await RawHttp.SendAsync(_lb.Address, RawHttp.Request("POST", "/v1/completions", huge), ReplicaProcess.Deadline);
        tally.Record("10 MB with Content-Length", declared);

        var head = Encoding.ASCII.GetBytes("POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
        byte[] chunk = [.. "10000\r\n"u8, .. Enumerable.Repeat((byte)'x', 0x10000), .. "\r\n"u8];
        var (endless, sent) = await RawHttp.SendEndlessAsync(_lb.Address, head, chunk, 64L << 20, TimeSpan.Zero, ReplicaProcess.Deadline);
        tally.Record($"never-ending chunked ({sent} bytes sent)", endless);

        await Finish(tally);
    }

    [Fact]
    public async Task Request_HeaderFloodsAndBadRequestLinesAtTheBalancer_4xxAndNoCooldown()
    {
        var tally = new HostileTally("balancer: header floods, request lines");
        var valid = Encoding.UTF8.GetBytes(Valid("/v1/completions"));
        var cases = new (string Name, byte[] Request)[]
        {
            ("1000 headers", RawHttp.Request("POST", "/v1/completions", valid, headers: Enumerable.Range(0, 1000).Select(i => $"X-Flood-{i}: {new string('a', 100)}"))),
            ("one 64 kB header", RawHttp.Request("POST", "/v1/completions", valid, headers: [$"X-Big: {new string('b', 65536)}"])),
            ("64 kB path", RawHttp.Request("POST", "/v1/completions?" + new string('q', 65536), valid)),
            ("garbage request line", "HELLO THERE\r\n\r\n"u8.ToArray()),
            ("negative content length", Encoding.ASCII.GetBytes("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n")),
            ("HTTP/9.9", Encoding.ASCII.GetBytes("POST /v1/completions HTTP/9.9\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")),
        };
        foreach (var (name, request) in cases)
        {
            tally.Record(name, await RawHttp.SendAsync(_lb.Address, request, ReplicaProcess.Deadline), bareAllowed: true);
        }

        await Finish(tally);
    }

    /// <summary>
    /// A body that trickles in below Kestrel's minimum data rate gets 408 and broken chunked framing 400 from the
    /// balancer itself (no replica saw them, so none goes into cooldown), rather than a connection closed with no answer.
    /// </summary>
    [Fact]
    public async Task Request_SlowClientAndBrokenBodyFramingAtTheBalancer_4xxAndNoCooldown()
    {
        var tally = new HostileTally("balancer: slow client, body framing");
        var slowHead = Encoding.ASCII.GetBytes("POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{");
        var (slow, trickled) = await RawHttp.SendEndlessAsync(_lb.Address, slowHead, " "u8.ToArray(), 100_000, TimeSpan.FromMilliseconds(250), ReplicaProcess.Deadline);
        tally.Record($"trickled body ({trickled} bytes)", slow, bareAllowed: true);
        var cases = new (string Name, byte[] Request)[]
        {
            ("length and chunked", Encoding.ASCII.GetBytes("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")),
            ("bad chunk size", Encoding.ASCII.GetBytes("POST /v1/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n")),
            ("huge chunk size", Encoding.ASCII.GetBytes("POST /v1/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFF\r\n{}\r\n0\r\n\r\n")),
        };
        foreach (var (name, request) in cases)
        {
            tally.Record(name, await RawHttp.SendAsync(_lb.Address, request, ReplicaProcess.Deadline), bareAllowed: true);
        }

        await Finish(tally);
    }

    private async Task Finish(HostileTally tally)
    {
        tally.Report(output.WriteLine);
        await _lb.AssertStillServingAsync(tally);
        tally.AssertClean();
    }

    private static string Valid(string path) => path == "/v1/completions"
        ? """{"prompt": "Once upon a time", "max_tokens": 1}"""
        : """{"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 1}""";
}
