using System.Text;
using System.Text.RegularExpressions;
using WrinkleFree.Replica.Api;
using WrinkleFree.Testing;
using WrinkleFree.Testing.Hostile;
using Xunit.Abstractions;

namespace WrinkleFree.Replica.Tests.Hostile;

/// <summary>
/// Scripted hostile request bodies against a real replica: malformed JSON of every shape, every field with every JSON kind,
/// invalid UTF-8 and lone surrogates in every string field, wrong content types. Every answer must be a 4xx in the OpenAI
/// error shape (or a 2xx where the value happens to be valid), never a 5xx, and the replica must serve after each batch.
/// </summary>
public sealed partial class HostileJsonTests(ITestOutputHelper output) : IAsyncLifetime
{
    private HostileReplica _replica = null!;

    public async Task InitializeAsync() => _replica = await HostileReplica.StartAsync();

    public async Task DisposeAsync() => await _replica.DisposeAsync();

    [Fact]
    public async Task Post_MalformedJsonOfEveryShape_4xxOpenAiError()
    {
        var tally = new HostileTally("malformed JSON");
        foreach (var path in HostileReplica.JsonEndpoints)
        {
            foreach (var (name, body) in HostileBodies.MalformedJson(HostileReplica.ValidBody(path)))
            {
                var (status, text) = await _replica.PostAsync(path, body);
                tally.Record($"{path} {name}", status, text);
            }
        }

        await Finish(tally);
    }

    [Fact]
    public async Task Post_EveryFieldWithEveryJsonKind_2xxOr4xxNamingTheField()
    {
        var tally = new HostileTally("wrong types per field");
        foreach (var (path, fields) in new[] { ("/v1/completions", ParamNames.Completions), ("/v1/chat/completions", ParamNames.Chat) })
        {
            var valid = HostileReplica.ValidBody(path);
            foreach (var field in fields)
            {
                foreach (var (kind, json) in HostileBodies.EveryKind)
                {
                    var (status, text) = await _replica.PostAsync(path, Encoding.UTF8.GetBytes(With(valid, field, json)));
                    tally.Record($"{path} {field} = {kind}", status, text, mayAccept: true, param: field);
                }
            }
        }

        await Finish(tally);
    }

    [Fact]
    public void ParamNames_ListEveryTopLevelFieldTheParserReads()
    {
        // The wrong-type sweep above is generated from ParamNames: a field the parser starts reading must be listed there.
        var source = File.ReadAllText(Path.Combine(RepositoryPaths.Root, "src", "WrinkleFree.Replica", "Api", "RequestParser.cs"));
        var read = TopLevelField().Matches(source).Select(m => m.Groups[1].Value).ToHashSet();
        Assert.NotEmpty(read);
        var listed = ParamNames.Completions.Concat(ParamNames.Chat).ToHashSet();
        Assert.Empty(read.Except(listed));
    }

    [Fact]
    public async Task Post_InvalidUtf8OrLoneSurrogateInEveryStringField_400NamingTheField()
    {
        var tally = new HostileTally("invalid UTF-8 and lone surrogates");
        byte[][] badBytes = [[0xFF], [0xC3, 0x28], [0xC0, 0xAF], [0xE2, 0x82], [0xED, 0xA0, 0x80]];
        string[] badEscapes = ["\\ud800", "\\udc00", "a\\ud83dz"];
        var cases = new (string Path, string Field, string Template)[]
        {
            ("/v1/completions", "prompt", """{"prompt": "X", "max_tokens": 1}"""),
            ("/v1/completions", "prompt", """{"prompt": ["ok", "X"], "max_tokens": 1}"""),
            ("/v1/completions", "stop", """{"prompt": "hi", "stop": "X", "max_tokens": 1}"""),
            ("/v1/completions", "stop", """{"prompt": "hi", "stop": ["X"], "max_tokens": 1}"""),
            ("/v1/completions", "model", """{"prompt": "hi", "model": "X", "max_tokens": 1}"""),
            ("/v1/completions", "user", """{"prompt": "hi", "user": "X", "max_tokens": 1}"""),
            ("/v1/chat/completions", "messages", """{"messages": [{"role": "user", "content": "X"}], "max_tokens": 1}"""),
            ("/v1/chat/completions", "messages", """{"messages": [{"role": "X", "content": "hi"}], "max_tokens": 1}"""),
            ("/v1/chat/completions", "messages", """{"messages": [{"role": "user", "content": [{"type": "text", "text": "X"}]}], "max_tokens": 1}"""),
            ("/v1/chat/completions", "stop", """{"messages": [{"role": "user", "content": "hi"}], "stop": "X", "max_tokens": 1}"""),
            ("/v1/chat/completions", "model", """{"messages": [{"role": "user", "content": "hi"}], "model": "X", "max_tokens": 1}"""),
            ("/v1/chat/completions", "user", """{"messages": [{"role": "user", "content": "hi"}], "user": "X", "max_tokens": 1}"""),
            ("/tokenize", "content", """{"content": "X"}"""),
        };
        foreach (var (path, field, template) in cases)
        {
            var parts = template.Split('X');
            foreach (var bad in badBytes)
            {
                byte[] body = [.. Encoding.UTF8.GetBytes(parts[0]), .. bad, .. Encoding.UTF8.GetBytes(parts[1])];
                var (status, text) = await _replica.PostAsync(path, body);
                tally.Record($"{path} {field} bytes {Convert.ToHexString(bad)} in {template}", status, text, param: field);
            }

            foreach (var escape in badEscapes)
            {
                var (status, text) = await _replica.PostAsync(path, Encoding.UTF8.GetBytes(parts[0] + escape + parts[1]));
                tally.Record($"{path} {field} escape {escape} in {template}", status, text, param: field);
            }
        }

        await Finish(tally);
    }

    [Fact]
    public async Task Post_WrongContentTypes_4xxOrValidJsonAccepted()
    {
        var tally = new HostileTally("wrong content types");
        var valid = Encoding.UTF8.GetBytes(HostileReplica.ValidBody("/v1/completions"));
        var cases = new (string Name, byte[] Body, string? ContentType, bool MayAccept)[]
        {
            ("form", "prompt=hi&max_tokens=1"u8.ToArray(), "application/x-www-form-urlencoded", false),
            ("multipart", "--b\r\nContent-Disposition: form-data; name=\"prompt\"\r\n\r\nhi\r\n--b--\r\n"u8.ToArray(), "multipart/form-data; boundary=b", false),
            ("xml", "<prompt>hi</prompt>"u8.ToArray(), "application/xml", false),
            ("octet garbage", [0x00, 0xFF, 0x10, 0x80], "application/octet-stream", false),
            ("no content type, garbage", "hi there"u8.ToArray(), null, false),
            ("utf-16 charset", Encoding.Unicode.GetBytes(HostileReplica.ValidBody("/v1/completions")), "application/json; charset=utf-16", false),
            ("text/plain json", valid, "text/plain", true),
            ("no content type, json", valid, null, true),
        };
        foreach (var path in HostileReplica.JsonEndpoints)
        {
            foreach (var (name, body, type, mayAccept) in cases)
            {
                var send = mayAccept ? Encoding.UTF8.GetBytes(HostileReplica.ValidBody(path)) : body;
                var (status, text) = await _replica.PostAsync(path, send, type);
                tally.Record($"{path} {name}", status, text, mayAccept);
            }
        }

        await Finish(tally);
    }

    private async Task Finish(HostileTally tally)
    {
        await _replica.AssertStillServingAsync(tally);
        tally.Report(output.WriteLine);
        tally.AssertClean();
    }

    /// <summary><paramref name="valid"/> with <paramref name="field"/> set to <paramref name="json"/> (added or replaced).</summary>
    private static string With(string valid, string field, string json)
    {
        var node = System.Text.Json.Nodes.JsonNode.Parse(valid)!.AsObject();
        node[field] = System.Text.Json.Nodes.JsonNode.Parse(json);
        return node.ToJsonString();
    }

    [GeneratedRegex("""(?:Field|Optional\w+)\(root, "([a-z_]+)"[,)]""")]
    private static partial Regex TopLevelField();
}
