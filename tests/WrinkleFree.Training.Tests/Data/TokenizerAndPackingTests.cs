using WrinkleFree.Inference.Gguf;
using WrinkleFree.Inference.Tokenization;
using WrinkleFree.Training.Data;

namespace WrinkleFree.Training.Tests.Data;

public sealed class TokenizerAndPackingTests
{
    private static readonly string[] Documents =
    [
        "The jury said it did find that many of the laws are outmoded.",
        "The quick brown fox jumps over the lazy dog. The dog sleeps.",
        "It's 1961 and the city of Atlanta holds an election; the jury reports.",
        "Numbers like 42 and 3.14 appear, as do \"quotes\" and (brackets).",
    ];

    [Fact]
    public void Train_SmallCorpus_RoundTripsTextAndSavesAndLoads()
    {
        var tokenizer = TrainingTokenizer.Train(Documents, 320);
        Assert.Equal(320, tokenizer.VocabSize);
        Assert.Equal("<|end_of_text|>", tokenizer.Tokens[tokenizer.EosId]);
        foreach (var document in Documents)
        {
            var ids = tokenizer.Encode(document);
            Assert.True(ids.Length < document.Length, "merges should compress the training text");
            Assert.Equal(document, tokenizer.Decode(ids));
        }

        var dir = Path.Combine(Path.GetTempPath(), "wf-training-tests", Guid.NewGuid().ToString("N"));
        tokenizer.Save(dir);
        var loaded = TrainingTokenizer.Load(dir);
        Assert.Equal(tokenizer.Tokens, loaded.Tokens);
        Assert.Equal(tokenizer.Merges, loaded.Merges);
        Assert.Equal(tokenizer.Encode(Documents[2]), loaded.Encode(Documents[2]));
    }

    [Fact]
    public void Train_SameCorpus_IsDeterministic()
    {
        var a = TrainingTokenizer.Train(Documents, 300);
        var b = TrainingTokenizer.Train(Documents.Reverse().ToArray(), 300);
        Assert.Equal(a.Merges, b.Merges);
    }

    [Fact]
    public void WriteGguf_EngineTokenizer_EncodesLikeTrainingTokenizer()
    {
        var tokenizer = TrainingTokenizer.Train(Documents, 300);
        var writer = new GgufWriter();
        writer.Add("general.architecture", "llama");
        tokenizer.WriteGguf(writer);
        var path = Path.Combine(Path.GetTempPath(), "wf-training-tests", Guid.NewGuid().ToString("N") + ".gguf");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        writer.WriteTo(path);
        using var file = GgufFile.Open(path);
        var engine = Tokenizer.FromGguf(file.Metadata);
        Assert.Equal(tokenizer.Encode(Documents[0]), engine.Encode(Documents[0], addSpecial: false));
        Assert.Equal(tokenizer.EosId, engine.EosId);
    }

    [Fact]
    public void Build_HeldOutSplit_IsEveryKthDocumentWithEosSeparators()
    {
        var tokenizer = TrainingTokenizer.Train(Documents, 300);
        var docs = Enumerable.Range(0, 40).Select(i => Documents[i % Documents.Length] + $" Doc {i}.").ToArray();
        var corpus = TokenCorpus.Build(docs, tokenizer, heldOutFraction: 0.1);
        Assert.Equal(4, corpus.HeldOutDocumentCount);
        Assert.Equal(36, corpus.Train.Count(t => t == tokenizer.EosId));
        Assert.Equal(4, corpus.HeldOut.Count(t => t == tokenizer.EosId));
        Assert.Equal(tokenizer.Encode(docs[9]), corpus.HeldOut[..tokenizer.Encode(docs[9]).Length]);
        Assert.Equal(corpus.Train, TokenCorpus.Build(docs, tokenizer, 0.1).Train);
    }

    [Fact]
    public void Restore_SavedPosition_ContinuesExactlyAcrossEpochs()
    {
        var tokens = Enumerable.Range(0, 1000).ToArray();
        var reference = new PackedBatches(tokens, 16, 3, seed: 7);
        var batches = Enumerable.Range(0, 50).Select(_ => reference.Next()).ToList();
        Assert.True(reference.Position.Epoch >= 2, "50 batches of 3 cross epochs of 62 windows");

        var resumed = new PackedBatches(tokens, 16, 3, seed: 7);
        for (var i = 0; i < 23; i++)
        {
            resumed.Next();
        }

        var saved = resumed.Position;
        var fresh = new PackedBatches(tokens, 16, 3, seed: 7);
        fresh.Restore(saved);
        for (var i = 23; i < 50; i++)
        {
            Assert.Equal(batches[i], fresh.Next());
        }
    }

    [Fact]
    public void Next_OneEpoch_VisitsEveryWindowOnce()
    {
        var tokens = Enumerable.Range(0, 160).ToArray();
        var reader = new PackedBatches(tokens, 16, 2, seed: 1);
        var starts = Enumerable.Range(0, 5).SelectMany(_ => reader.Next().Chunk(16).Select(w => w[0])).Order().ToArray();
        Assert.Equal(Enumerable.Range(0, 10).Select(i => (long)i * 16).ToArray(), starts);
        Assert.NotEqual(starts, new PackedBatches(tokens, 16, 10, seed: 1).Next().Chunk(16).Select(w => w[0]).ToArray());
    }
}
