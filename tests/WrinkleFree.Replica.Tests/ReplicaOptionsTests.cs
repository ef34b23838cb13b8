namespace WrinkleFree.Replica.Tests;

/// <summary>Options from the environment (the names the service YAML sets) and their validation.</summary>
public sealed class ReplicaOptionsTests
{
    [Fact]
    public void FromEnvironment_EveryVariable_IsRead()
    {
        var env = new Dictionary<string, string>
        {
            ["BACKEND"] = "vllm",
            ["MODEL_PATH"] = "/models/m.gguf",
            ["CONTEXT_SIZE"] = "2048",
            ["NUM_THREADS"] = "3",
            ["MLOCK"] = "true",
            ["HOST"] = "127.0.0.1",
            ["PORT"] = "9000",
            ["WF_MODEL_ID"] = "m",
            ["WF_MAX_SEQUENCES"] = "12",
            ["WF_MAX_QUEUE"] = "7",
            ["WF_OVERLOAD_QUEUE_THRESHOLD"] = "5",
            ["WF_OVERLOAD_BANDWIDTH_THRESHOLD"] = "0.75",
            ["WF_DRAIN_TIMEOUT_SECONDS"] = "12.5",
            ["WF_MAX_BODY_BYTES"] = "65536",
            ["WF_PEAK_BANDWIDTH_GBPS"] = "42",
            ["WF_UPSTREAM_URL"] = "http://127.0.0.1:8000",
            ["WF_UPSTREAM_COMMAND"] = "vllm serve m",
            ["WF_PREFIX_CACHE"] = "false",
            ["WF_WARMUP"] = "false",
        };

        var o = ReplicaOptions.FromEnvironment(env.GetValueOrDefault);
        o.Validate();

        Assert.Equal(
            new ReplicaOptions
            {
                Backend = "vllm", ModelPath = "/models/m.gguf", ContextSize = 2048, Threads = 3, Mlock = true, Host = "127.0.0.1", Port = 9000,
                ModelId = "m", MaxSequences = 12, MaxQueue = 7, OverloadQueueThreshold = 5, OverloadBandwidthThreshold = 0.75,
                DrainTimeout = TimeSpan.FromSeconds(12.5), MaxRequestBodyBytes = 65536, PeakBandwidthGBps = 42,
                UpstreamUrl = "http://127.0.0.1:8000", UpstreamCommand = "vllm serve m", PrefixCache = false, WarmUp = false,
            },
            o);
    }

    [Fact]
    public void FromEnvironment_BadNumber_NamesTheVariable()
    {
        var error = Assert.Throws<ArgumentException>(() => ReplicaOptions.FromEnvironment(n => n == "PORT" ? "eighty" : null));

        Assert.Contains("PORT='eighty'", error.Message);
    }

    [Fact]
    public void FromEnvironment_BadWarmUp_NamesTheVariable()
    {
        var error = Assert.Throws<ArgumentException>(() => ReplicaOptions.FromEnvironment(n => n == "WF_WARMUP" ? "sometimes" : null));

        Assert.Contains("WF_WARMUP='sometimes'", error.Message);
    }

    [Theory]
    [InlineData("Backend")]
    [InlineData("ModelPath")]
    [InlineData("Port")]
    [InlineData("Threads")]
    [InlineData("OverloadBandwidthThreshold")]
    public void Validate_BadValue_NamesTheOption(string option)
    {
        var good = new ReplicaOptions { ModelPath = "m.gguf" };
        var bad = option switch
        {
            "Backend" => good with { Backend = "onnx" },
            "ModelPath" => good with { ModelPath = null },
            "Port" => good with { Port = 70000 },
            "Threads" => good with { Threads = 0 },
            _ => good with { OverloadBandwidthThreshold = -1 },
        };

        var error = Assert.Throws<ArgumentException>(bad.Validate);

        Assert.Equal(option, error.ParamName);
    }

    [Fact]
    public void CacheType_FromTheEnvironment_ReachesTheEngineOptions()
    {
        var o = ReplicaOptions.FromEnvironment(n => n switch { "MODEL_PATH" => "m.gguf", "WF_CACHE_TYPE" => "f32", _ => null });
        o.Validate();

        Assert.Equal("f32", o.CacheType);
        Assert.Equal(Inference.Models.KvPrecision.F32, o.KvPrecision);
        Assert.Equal(Inference.Models.KvPrecision.F16, new ReplicaOptions { ModelPath = "m.gguf" }.KvPrecision);
    }

    [Theory]
    [InlineData("bitnet", "q8_0", "f16 or f32")]
    [InlineData("vllm", "f32", "bitnet")]
    public void Validate_CacheType_NamesTheOptionAndWhatIsAllowed(string backend, string cacheType, string mention)
    {
        var o = new ReplicaOptions { Backend = backend, ModelPath = "m.gguf", UpstreamUrl = "http://127.0.0.1:8000", CacheType = cacheType };

        var error = Assert.Throws<ArgumentException>(o.Validate);

        Assert.Equal("CacheType", error.ParamName);
        Assert.Contains(mention, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CacheTypeF32_Replica_ServesTheSameGreedyTextAsF16()
    {
        // The tiny model's greedy continuation is the same from a float32 cache as from the half one (its logits differ by
        // the cache's rounding only), so both replicas must answer, and agree.
        var texts = new List<string>();
        foreach (var cacheType in new[] { "f32", "f16" })
        {
            await using var host = await TestReplica.StartAsync(o => o with { CacheType = cacheType });
            var engine = Assert.IsType<WrinkleFree.Replica.Backends.BitNet.BitNetBackend>(host.Backend).Engine!;
            Assert.Equal(cacheType == "f32" ? Inference.Models.KvPrecision.F32 : Inference.Models.KvPrecision.F16, engine.KvCache.Precision);
            using var client = TestReplica.Client(host);
            var (status, body, response) = await TestReplica.PostAsync(client, "/v1/completions", TestReplica.Json(new { prompt = "Once upon a time", max_tokens = 8, temperature = 0 }));
            response.Dispose();
            Assert.Equal(200, status);
            texts.Add(body.GetProperty("choices")[0].GetProperty("text").GetString()!);
        }

        Assert.NotEmpty(texts[0]);
        Assert.Equal(texts[0], texts[1]);
    }
}
