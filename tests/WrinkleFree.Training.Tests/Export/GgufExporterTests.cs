using WrinkleFree.Inference.Gguf;
using WrinkleFree.Training.Export;
using WrinkleFree.Training.Model;
using Xunit.Abstractions;

namespace WrinkleFree.Training.Tests.Export;

[Collection(TorchCollection.Name)]
public sealed class GgufExporterTests(ITestOutputHelper output)
{
    private static readonly int[] Prompt = [300, 5, 17, 99, 260, 42, 7, 150, 201, 33, 64, 128, 12, 250, 3, 77, 180, 90, 11, 299];

    /// <summary>Hidden 256 and intermediate 512: ternary rows must be whole TQ2_0 blocks of 256.</summary>
    private static ModelConfig ExportConfig(string type = "qwen3", bool tied = true) =>
        TestTorch.Tiny(type, tied, hidden: 256, heads: 4, kvHeads: 2, ffn: 512, vocab: 320);

    /// <summary>
    /// The ternary student against the engine. Both sides use the same trits, f32 scales and embedding values and quantize
    /// activations the same way (per-token absmax int8, ties to even), so what remains is float summation order in norms,
    /// attention and the LM head (measured: 6e-5 on a logit range of 177, i.e. 3e-7). Where summation order moves an
    /// activation across an int8 rounding boundary, one value changes by amax/127; the 0.2% bound leaves room for a few such
    /// flips. A Q8_0 head also quantizes the final hidden state in 32-value blocks on the engine side only (measured 0.17%),
    /// hence 1% there.
    /// </summary>
    [Theory]
    [InlineData(GgmlType.I2_S, GgmlType.F16, 0.002f, "qwen3")]
    [InlineData(GgmlType.TQ2_0, GgmlType.F16, 0.002f, "qwen3")]
    [InlineData(GgmlType.I2_S, GgmlType.Q8_0, 0.01f, "qwen3")]
    [InlineData(GgmlType.I2_S, GgmlType.F16, 0.002f, "llama")] // no q/k norms: the engine takes them from the file
    [InlineData(GgmlType.TQ2_0, GgmlType.F16, 0.002f, "llama")]
    public void Export_TernaryStudent_EngineLogitsMatchTorch(GgmlType ternary, GgmlType embeddings, float tolerance, string type)
    {
        var config = ExportConfig(type);
        using var teacher = new CausalLanguageModel(config);
        EngineHarness.Randomize(teacher, 11);
        using var student = SubLnConverter.Convert(teacher);
        EngineHarness.RoundTrip(student, "model.embed_tokens.weight", embeddings);
        var path = Path.Combine(TestTorch.TempDir(), "student.gguf");
        GgufExporter.Export(student, TokenizerData.DefaultSmall(config.VocabSize), path,
            new GgufExportOptions { TernaryType = ternary, EmbeddingType = embeddings });

        var engine = EngineHarness.Logits(path, Prompt);
        var torch = EngineHarness.TorchLogits(student, Prompt);
        var (maxDiff, scale, agree) = EngineHarness.Compare(torch, engine);
        output.WriteLine($"{type} {ternary}/{embeddings}: max |Δlogit| {maxDiff:G4} of range {scale:G4} ({maxDiff / scale:P3}); arg-max agrees at {agree}/{Prompt.Length}");
        Assert.True(maxDiff <= tolerance * scale, $"max |Δlogit| {maxDiff} > {tolerance} × {scale}");
        Assert.True(agree >= Prompt.Length - 1, $"arg-max agrees at only {agree}/{Prompt.Length} positions");
    }

    /// <summary>
    /// The full-precision teacher as F32 qwen3 (tied) and llama (untied, q/k rows permuted for adjacent-pair RoPE): the only
    /// difference left is float summation order, so 1e-4 of the range.
    /// </summary>
    [Theory]
    [InlineData("qwen3", true)]
    [InlineData("llama", false)]
    public void Export_FullPrecisionTeacher_EngineLogitsMatchTorch(string type, bool tied)
    {
        var config = ExportConfig(type, tied);
        using var teacher = new CausalLanguageModel(config);
        EngineHarness.Randomize(teacher, 12);
        var path = Path.Combine(TestTorch.TempDir(), "teacher.gguf");
        GgufExporter.Export(teacher, TokenizerData.DefaultSmall(config.VocabSize), path,
            new GgufExportOptions { EmbeddingType = GgmlType.F32, FullPrecisionType = GgmlType.F32 });
        var (maxDiff, scale, agree) = EngineHarness.Compare(EngineHarness.TorchLogits(teacher, Prompt), EngineHarness.Logits(path, Prompt));
        output.WriteLine($"{type} F32: max |Δlogit| {maxDiff:G4} of range {scale:G4}; arg-max agrees at {agree}/{Prompt.Length}");
        Assert.True(maxDiff <= 1e-4f * scale, $"max |Δlogit| {maxDiff} > 1e-4 × {scale}");
        Assert.Equal(Prompt.Length, agree);
    }

    [Fact]
    public void Export_TernaryWithoutSubLn_SaysToRunStage1WithSubLn()
    {
        using var teacher = new CausalLanguageModel(TestTorch.Tiny());
        using var student = SubLnConverter.Convert(teacher, insertSubLn: false);
        var e = Assert.Throws<NotSupportedException>(() => GgufExporter.Export(student, TokenizerData.DefaultSmall(300),
            Path.Combine(TestTorch.TempDir(), "x.gguf"), new GgufExportOptions()));
        Assert.Contains("--subln", e.Message);
    }

    [Fact]
    public void Export_RowsNotWholeBlocks_NamesTensorAndBlockSize()
    {
        using var teacher = new CausalLanguageModel(TestTorch.Tiny());
        using var student = SubLnConverter.Convert(teacher);
        var e = Assert.Throws<NotSupportedException>(() => GgufExporter.Export(student, TokenizerData.DefaultSmall(300),
            Path.Combine(TestTorch.TempDir(), "x.gguf"), new GgufExportOptions { EmbeddingType = GgmlType.F16, TernaryType = GgmlType.TQ2_0 }));
        Assert.Contains("blk.0.attn_q.weight", e.Message);
        Assert.Contains("256", e.Message);
    }

    [Fact]
    public void TokenizerData_SaveLoad_RoundTrip()
    {
        var data = TokenizerData.DefaultSmall(320);
        var dir = TestTorch.TempDir();
        data.Save(dir);
        var loaded = TokenizerData.Load(dir, TestTorch.Tiny());
        Assert.Equal(data.Tokens, loaded.Tokens);
        Assert.Equal(data.Merges, loaded.Merges);
        Assert.Equal(data.TokenTypes, loaded.TokenTypes);
        Assert.Equal((data.Pre, data.BosId, data.EosId, data.EotId, data.ChatTemplate), (loaded.Pre, loaded.BosId, loaded.EosId, loaded.EotId, loaded.ChatTemplate));
    }

    [Fact]
    public void TokenizerData_HuggingFaceTokenizerJson_TakesIdsFromConfigAndPreFromModelType()
    {
        var small = TokenizerData.DefaultSmall(320);
        var dir = TestTorch.TempDir();
        // The Hugging Face layout: vocab object, merges as pairs (newer tokenizers), special tokens as added_tokens.
        var vocab = new System.Text.Json.Nodes.JsonObject();
        var added = new System.Text.Json.Nodes.JsonArray();
        for (var i = 0; i < small.Tokens.Length; i++)
        {
            if (small.TokenTypes[i] == 3)
            {
                added.Add(new System.Text.Json.Nodes.JsonObject { ["id"] = i, ["content"] = small.Tokens[i], ["special"] = true });
            }
            else
            {
                vocab[small.Tokens[i]] = i;
            }
        }

        var merges = new System.Text.Json.Nodes.JsonArray(small.Merges.Select(m => (System.Text.Json.Nodes.JsonNode)new System.Text.Json.Nodes.JsonArray(m.Split(' ')[0], m.Split(' ')[1])).ToArray());
        var json = new System.Text.Json.Nodes.JsonObject
        {
            ["added_tokens"] = added,
            ["model"] = new System.Text.Json.Nodes.JsonObject { ["type"] = "BPE", ["vocab"] = vocab, ["merges"] = merges },
        };
        File.WriteAllText(Path.Combine(dir, "tokenizer.json"), json.ToJsonString());
        var loaded = TokenizerData.Load(dir, TestTorch.Tiny() with { BosTokenId = small.BosId, EosTokenId = small.EosId });
        Assert.Equal(small.Tokens, loaded.Tokens);
        Assert.Equal(small.Merges, loaded.Merges);
        Assert.Equal(small.TokenTypes, loaded.TokenTypes);
        Assert.Equal(("qwen2", small.BosId, small.EosId), (loaded.Pre, loaded.BosId, loaded.EosId));
    }
}
