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
}
