namespace WrinkleFree.Replica.Backends;

/// <summary>
/// What the OpenAI API layer needs from a backend: the in-process ternary engine (<c>bitnet</c>) or an OpenAI-compatible
/// upstream such as vLLM (<c>vllm</c>). Both give the same API, metrics and health semantics because the API layer,
/// not the backend, parses requests and writes responses.
/// </summary>
public interface IInferenceBackend : IAsyncDisposable
{
    /// <summary><c>bitnet</c> or <c>vllm</c>.</summary>
    string Name { get; }

    /// <summary>The model id clients use in "model" (GET /v1/models lists it).</summary>
    string ModelId { get; }

    BackendState State { get; }

    /// <summary>The most tokens (prompt plus output) one sequence may hold, once known (GET /v1/models lists it).</summary>
    int? ContextLength { get; }

    /// <summary>Starts loading (bitnet) or starting/connecting to the upstream (vllm); returns once started, not when ready.</summary>
    Task StartAsync(CancellationToken cancellationToken);

    /// <summary>Current load for /health, /metrics and overload decisions.</summary>
    BackendLoad GetLoad();

    Task<int[]> TokenizeAsync(string text, bool addSpecial, CancellationToken cancellationToken);

    Task<string> DetokenizeAsync(int[] tokens, CancellationToken cancellationToken);

    /// <summary>
    /// Generates ONE choice. Errors the client caused or should retry throw <see cref="BackendException"/> before the first
    /// event where possible. Cancelling stops generation and frees its slot at once.
    /// </summary>
    IAsyncEnumerable<GenerationEvent> GenerateAsync(GenerationInput input, CancellationToken cancellationToken);
}
