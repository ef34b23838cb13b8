using Microsoft.Extensions.Logging;
using WrinkleFree.Server.Backends.BitNet;

namespace WrinkleFree.Server.Backends;

/// <summary>The backend router: <c>--backend</c> / BACKEND picks the implementation.</summary>
internal static class BackendFactory
{
    public static IInferenceBackend Create(ReplicaOptions options, ILoggerFactory loggers, TimeProvider time) => options.Backend switch
    {
        "bitnet" => new BitNetBackend(options, loggers.CreateLogger("WrinkleFree.Server.Backends.BitNet"), time),
        // The vllm backend (Backends/Vllm/) is built on its own branch; the lead adds its constructor here at merge.
        "vllm" => throw new NotSupportedException("the vllm backend is not part of this build"),
        _ => throw new ArgumentException($"unknown backend '{options.Backend}' (expected bitnet or vllm)", nameof(options)),
    };
}
