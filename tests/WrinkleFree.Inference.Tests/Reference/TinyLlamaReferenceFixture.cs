using WrinkleFree.Reference;

namespace WrinkleFree.Inference.Tests.Reference;

/// <summary>
/// One llama.cpp instance on the tiny llama model, shared by every test class in the
/// <see cref="TinyLlamaReferenceCollection"/> so the model is written and loaded once per test run.
/// </summary>
public sealed class TinyLlamaReferenceFixture : IDisposable
{
    public TinyLlamaReferenceFixture()
    {
        ModelPath = TinyLlamaGguf.Write(seed: 1234);
        // One thread keeps results independent of how many cores the test host has and avoids contending with other tests.
        Reference = LlamaCppReference.Load(ModelPath, threads: 1, contextSize: TinyLlamaGguf.ContextLength, batchSize: 64);
    }

    public string ModelPath { get; }

    public LlamaCppReference Reference { get; }

    public void Dispose()
    {
        Reference.Dispose();
        File.Delete(ModelPath);
    }
}
