using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using WrinkleFree.Inference.Gguf;
using WrinkleFree.Inference.Models;

namespace WrinkleFree.Replica.Tests;

/// <summary>Starts real replicas on 127.0.0.1 port 0 over the tiny synthetic model, and talks to them over HTTP.</summary>
internal static class TestReplica
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private static readonly Lazy<string> TinyModel = new(() =>
    {
        var path = Path.Combine(Path.GetTempPath(), "wf-server-tests", $"tiny-{Environment.ProcessId}.gguf");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        SyntheticModel.Write(path, SyntheticShape.Tiny, GgmlType.TQ2_0, seed: 1);
        return path;
    });

    public static string ModelPath => TinyModel.Value;

    public const string ModelId = "tiny";

    /// <summary>Test defaults: loopback, any port, one engine thread, a configured peak bandwidth (no calibration pass).</summary>
    public static ReplicaOptions Options(Func<ReplicaOptions, ReplicaOptions>? change = null)
    {
        var options = new ReplicaOptions
        {
            ModelPath = ModelPath,
            ModelId = ModelId,
            Host = "127.0.0.1",
            Port = 0,
            Threads = 1,
            MaxSequences = 8,
            PeakBandwidthGBps = 10,
            OverloadQueueThreshold = 1000,
            OverloadBandwidthThreshold = 1000,
            DrainTimeout = TimeSpan.FromSeconds(20),
        };
        return change is null ? options : change(options);
    }

    public static async Task<ReplicaHost> StartAsync(Func<ReplicaOptions, ReplicaOptions>? change = null, bool waitReady = true)
    {
        var host = await ReplicaHost.StartAsync(Options(change)).WaitAsync(Timeout);
        if (waitReady)
        {
            await host.WaitUntilReadyAsync(CancellationToken.None).WaitAsync(Timeout);
        }

        return host;
    }

    public static HttpClient Client(ReplicaHost host) => new() { BaseAddress = host.Address, Timeout = Timeout };

    public static async Task<(int Status, JsonElement Body, HttpResponseMessage Response)> PostAsync(HttpClient client, string path, string json)
    {
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        var response = await client.PostAsync(path, content).WaitAsync(Timeout);
        var text = await response.Content.ReadAsStringAsync().WaitAsync(Timeout);
        return ((int)response.StatusCode, JsonDocument.Parse(text).RootElement.Clone(), response);
    }

    /// <summary>Posts <paramref name="json"/> and asserts a 400 whose error names <paramref name="param"/> and says <paramref name="mention"/>.</summary>
    public static async Task AssertBadRequestAsync(HttpClient client, string path, string json, string param, string mention)
    {
        var (status, body, response) = await PostAsync(client, path, json);
        response.Dispose();
        Assert.Equal(400, status);
        var error = body.GetProperty("error");
        Assert.Equal(param, error.GetProperty("param").GetString());
        Assert.Contains(mention, error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    public static async Task<(int Status, JsonElement Body)> GetAsync(HttpClient client, string path)
    {
        using var response = await client.GetAsync(path).WaitAsync(Timeout);
        var text = await response.Content.ReadAsStringAsync().WaitAsync(Timeout);
        return ((int)response.StatusCode, JsonDocument.Parse(text).RootElement.Clone());
    }

    /// <summary>Reads an SSE response to the end: the JSON of every <c>data:</c> event before <c>[DONE]</c>, and whether [DONE] came.</summary>
    public static async Task<(List<JsonElement> Events, bool Done)> ReadSseAsync(HttpResponseMessage response)
    {
        var events = new List<JsonElement>();
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync().WaitAsync(Timeout));
        while (await reader.ReadLineAsync().WaitAsync(Timeout) is { } line)
        {
            if (!line.StartsWith("data: ", StringComparison.Ordinal))
            {
                continue;
            }

            var data = line["data: ".Length..];
            if (data == "[DONE]")
            {
                return (events, true);
            }

            events.Add(JsonDocument.Parse(data).RootElement.Clone());
        }

        return (events, false);
    }

    /// <summary>Polls /health until <paramref name="condition"/> holds, failing after the deadline.</summary>
    public static async Task<JsonElement> PollHealthAsync(HttpClient client, Func<JsonElement, bool> condition)
    {
        var deadline = DateTime.UtcNow + Timeout;
        JsonElement last = default;
        while (DateTime.UtcNow < deadline)
        {
            (_, last) = await GetAsync(client, "/health");
            if (condition(last))
            {
                return last;
            }

            await Task.Delay(20);
        }

        throw new TimeoutException($"/health never reached the expected state; last: {last}");
    }

    public static string Json(object value) => JsonSerializer.Serialize(value);
}
