namespace WrinkleFree.Inference.Tests.Reference;

/// <summary>Test classes marked <c>[Collection(TinyLlamaReferenceCollection.Name)]</c> share one <see cref="TinyLlamaReferenceFixture"/>.</summary>
[CollectionDefinition(Name)]
public sealed class TinyLlamaReferenceCollection : ICollectionFixture<TinyLlamaReferenceFixture>
{
    public const string Name = "llama.cpp tiny llama";
}
