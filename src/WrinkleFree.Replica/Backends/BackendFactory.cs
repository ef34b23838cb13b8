using Microsoft.Extensions.Logging;
using WrinkleFree.Replica.Backends.BitNet;
using WrinkleFree.Replica.Backends.Vllm;

namespace WrinkleFree.Replica.Backends;

/// <summary>The backend router: <c>--backend</c> / BACKEND picks the implementation.</summary>
internal static class BackendFactory
{
    public static IInferenceBackend Create(ReplicaOptions options, ILoggerFactory loggers, TimeProvider time) => options.Backend switch
    {
        "bitnet" => new BitNetBackend(options, loggers.CreateLogger("WrinkleFree.Replica.Backends.BitNet"), time),
        "vllm" => new VllmBackend(
            new VllmBackendOptions
            {
                UpstreamUrl = options.UpstreamUrl is null ? null : new Uri(options.UpstreamUrl),
                UpstreamCommand = options.UpstreamCommand,
                ModelId = options.ModelId,
                MaxInFlight = (int)Math.Min(int.MaxValue, (long)options.MaxSequences + options.MaxQueue),
            },
            loggers.CreateLogger<VllmBackend>(),
            time),
        _ => throw new ArgumentException($"unknown backend '{options.Backend}' (expected bitnet or vllm)", nameof(options)),
    };
}
