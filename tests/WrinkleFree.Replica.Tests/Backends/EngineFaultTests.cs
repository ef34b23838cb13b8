using WrinkleFree.Inference.Gguf;
using WrinkleFree.Inference.Models;

namespace WrinkleFree.Replica.Tests.Backends;

/// <summary>
/// A corrupted GGUF whose weights turn one token's activations into NaN once made the sampler throw on the engine thread
/// and the replica abort (SIGABRT) after /health said ok. Now that request fails with a 500 naming the cause and the
/// replica goes on serving.
/// </summary>
public sealed class EngineFaultTests : IAsyncLifetime
{
    /// <summary>The token whose embedding row the test corrupts.</summary>
    private const int PoisonedToken = 7;

    private readonly string _path = Path.Combine(Path.GetTempPath(), "wf-server-tests", $"nan-{Environment.ProcessId}-{Guid.NewGuid():N}.gguf");
    private ReplicaHost _host = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(_path)!);
        WritePoisonedModel(_path);
        _host = await TestReplica.StartAsync(o => o with { ModelPath = _path });
        _client = TestReplica.Client(_host);
    }

    /// <summary>
    /// The tiny synthetic model re-labelled as a llama (whose output head may be untied) with a clean copy of the embedding
    /// as its head and fp16 NaN over one embedding row: a sequence whose last token is <see cref="PoisonedToken"/> carries
    /// NaN down its residual stream into its logits (ternary layers quantize NaN inputs to finite values, so the others stay clean), so the test can tell the faulted request from the ones served beside it.
    /// </summary>
    private static void WritePoisonedModel(string path)
    {
        var source = path + ".bitnet";
        SyntheticModel.Write(source, SyntheticShape.Tiny, GgmlType.TQ2_0, seed: 1, embeddingType: GgmlType.F16);
        try
        {
            using var file = GgufFile.Open(source);
            var writer = new GgufWriter();
            foreach (var key in file.Metadata.Keys)
            {
                if (key == "general.architecture")
                {
                    writer.Add(key, "llama");
                }
                else
                {
                    writer.Add(key.StartsWith("bitnet.", StringComparison.Ordinal) ? "llama." + key["bitnet.".Length..] : key, file.Metadata[key]);
                }
            }

            foreach (var tensor in file.Tensors)
            {
                var data = file.GetSpan(tensor).ToArray();
                if (tensor.Name == "token_embd.weight")
                {
                    Assert.Equal(GgmlType.F16, tensor.Type);
                    writer.AddTensor("output.weight", tensor.Type, tensor.Shape, data.ToArray());
                    var row = (int)tensor.Columns * 2;
                    for (var i = PoisonedToken * row; i < (PoisonedToken + 1) * row; i += 2)
                    {
                        // fp16 NaN is 0x7E00, little-endian.
                        data[i] = 0x00;
                        data[i + 1] = 0x7E;
                    }
                }

                writer.AddTensor(tensor.Name, tensor.Type, tensor.Shape, data);
            }

            writer.WriteTo(path);
        }
        finally
        {
            File.Delete(source);
        }
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _host.DisposeAsync();
        File.Delete(_path);
    }

    [Fact]
    public async Task Completion_NonFiniteLogits_500NamingTheCauseAndReplicaServesOn()
    {
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var (status, body, _) = await TestReplica.PostAsync(_client, "/v1/completions", $"{{\"prompt\": [1, 3, {PoisonedToken}], \"max_tokens\": 4}}");

            Assert.True(status == 500, $"attempt {attempt}: {status} {body}");
            var error = body.GetProperty("error");
            Assert.Equal("server_error", error.GetProperty("type").GetString());
            Assert.Equal("engine_fault", error.GetProperty("code").GetString());
            Assert.Contains("non-finite logits", error.GetProperty("message").GetString(), StringComparison.Ordinal);

            var (healthStatus, health) = await TestReplica.GetAsync(_client, "/health");
            Assert.Equal(200, healthStatus);
            Assert.Equal("ok", health.GetProperty("status").GetString());

            var (ok, answer, _) = await TestReplica.PostAsync(_client, "/v1/completions", "{\"prompt\": [1, 2, 3], \"max_tokens\": 4}");
            Assert.True(ok == 200, $"attempt {attempt}: a clean prompt got {ok} {answer}");
        }
    }

    [Fact]
    public async Task StreamedCompletion_NonFiniteLogits_ErrorEventAndReplicaServesOn()
    {
        using var content = new StringContent($"{{\"prompt\": [1, {PoisonedToken}], \"max_tokens\": 4, \"stream\": true}}", System.Text.Encoding.UTF8, "application/json");
        using var response = await _client.PostAsync("/v1/completions", content).WaitAsync(TestReplica.Timeout);

        // The first event is awaited before the status goes out, so the fault is the status here too.
        Assert.Equal(500, (int)response.StatusCode);
        Assert.Contains("non-finite logits", await response.Content.ReadAsStringAsync().WaitAsync(TestReplica.Timeout), StringComparison.Ordinal);

        var (ok, _, _) = await TestReplica.PostAsync(_client, "/v1/completions", "{\"prompt\": [1, 2], \"max_tokens\": 2, \"stream\": false}");
        Assert.Equal(200, ok);
    }
}
