namespace WrinkleFree.Replica.Backends;

/// <summary>Readiness of a backend: /health answers 503 "loading" until <see cref="Ready"/>.</summary>
public enum BackendState
{
    Loading,
    Ready,

    /// <summary>The upstream died and is being restarted (vllm), or the model failed to load.</summary>
    Unavailable,
}
