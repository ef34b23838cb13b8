using System.Text.Json;
using WrinkleFree.Training.Export;
using WrinkleFree.Training.Model;

namespace WrinkleFree.Cli.Tests;

public sealed class TrainCommandsTests
{
    [Fact]
    public async Task Stage1ExportGenerate_TinyTeacher_EngineServesTheStudent()
    {
        var root = TempDir();
        var teacher = WriteTeacher(Path.Combine(root, "teacher"));
        var student = Path.Combine(root, "student");
        var gguf = Path.Combine(root, "student.gguf");

        var stage1 = await WfProcess.RunAsync("train", "stage1", "--teacher", teacher, "--out", student, "--subln", "--json");
        Assert.True(stage1.ExitCode == 0, stage1.Stderr);
        using (var s = JsonDocument.Parse(stage1.Stdout))
        {
            Assert.Equal(14, s.RootElement.GetProperty("ternary_layers").GetInt32());
            Assert.True(s.RootElement.GetProperty("subln").GetBoolean());
        }

        Assert.True(File.Exists(Path.Combine(student, "tokenizer.json")));
        Assert.True(ModelConfig.Load(Path.Combine(student, "config.json")).Ternary);

        var export = await WfProcess.RunAsync("train", "export", "--checkpoint", student, "--out", gguf, "--type", "tq2_0", "--embeddings", "f16", "--json");
        Assert.True(export.ExitCode == 0, export.Stderr);
        using (var e = JsonDocument.Parse(export.Stdout))
        {
            Assert.Equal("wrinklefree", e.RootElement.GetProperty("architecture").GetString());
            Assert.Equal("TQ2_0", e.RootElement.GetProperty("ternary_type").GetString());
        }

        var gen = await WfProcess.RunAsync("generate", "-m", gguf, "-p", "Once upon a time", "-n", "4", "--ignore-eos", "--json", "--threads", "1");
        Assert.True(gen.ExitCode == 0, gen.Stderr);
        using var result = JsonDocument.Parse(gen.Stdout);
        Assert.Equal(4, result.RootElement.GetProperty("token_ids").GetArrayLength());
    }

    [Fact]
    public async Task Export_TeacherCheckpoint_WritesFullPrecisionQwen3()
    {
        var root = TempDir();
        var teacher = WriteTeacher(Path.Combine(root, "teacher"));
        var export = await WfProcess.RunAsync("train", "export", "--checkpoint", teacher, "--out", Path.Combine(root, "t.gguf"), "--json");
        Assert.True(export.ExitCode == 0, export.Stderr);
        using var e = JsonDocument.Parse(export.Stdout);
        Assert.Equal("qwen3", e.RootElement.GetProperty("architecture").GetString());
    }

    [Fact]
    public async Task TrainCommands_BadInput_ExplainWhatToDo()
    {
        var root = TempDir();
        var missing = await WfProcess.RunAsync("train", "export", "--checkpoint", Path.Combine(root, "nope"), "--out", Path.Combine(root, "x.gguf"));
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("config.json is missing", missing.Stderr, StringComparison.Ordinal);

        var both = await WfProcess.RunAsync("train", "stage1", "--teacher", root, "--out", root, "--subln", "--no-subln");
        Assert.Equal(2, both.ExitCode);
        Assert.Contains("give at most one", both.Stderr, StringComparison.Ordinal);

        var teacher = WriteTeacher(Path.Combine(root, "teacher"));
        var plain = Path.Combine(root, "plain");
        Assert.Equal(0, (await WfProcess.RunAsync("train", "stage1", "--teacher", teacher, "--out", plain, "--no-subln")).ExitCode);
        var export = await WfProcess.RunAsync("train", "export", "--checkpoint", plain, "--out", Path.Combine(root, "p.gguf"));
        Assert.Equal(2, export.ExitCode);
        Assert.Contains("--subln", export.Stderr, StringComparison.Ordinal);
    }

    private static string TempDir()
    {
        var dir = Path.Combine(Path.GetTempPath(), "wf-cli-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>A tiny random Qwen3 checkpoint written with plain .NET (no torch in the test process): hidden 256 (whole TQ2_0 blocks).</summary>
    private static string WriteTeacher(string dir)
    {
        var config = new ModelConfig
        {
            ModelType = "qwen3", VocabSize = 320, HiddenSize = 256, IntermediateSize = 512, NumHiddenLayers = 2,
            NumAttentionHeads = 4, NumKeyValueHeads = 2, HeadDim = 64, TieWordEmbeddings = true, MaxPositionEmbeddings = 256,
        };
        var random = new Random(5);
        var writer = new SafeTensorsWriter();
        void Add(string name, params long[] shape)
        {
            var values = new float[shape.Aggregate(1L, (a, b) => a * b)];
            for (var i = 0; i < values.Length; i++)
            {
                values[i] = name.EndsWith("norm.weight", StringComparison.Ordinal) ? 1f : (float)((random.NextDouble() - 0.5) * 0.1);
            }

            writer.Add(name, values, shape, SafeTensorDType.BF16);
        }

        Add("model.embed_tokens.weight", 320, 256);
        Add("model.norm.weight", 256);
        for (var l = 0; l < 2; l++)
        {
            var p = $"model.layers.{l}.";
            Add(p + "input_layernorm.weight", 256);
            Add(p + "post_attention_layernorm.weight", 256);
            Add(p + "self_attn.q_proj.weight", 256, 256);
            Add(p + "self_attn.k_proj.weight", 128, 256);
            Add(p + "self_attn.v_proj.weight", 128, 256);
            Add(p + "self_attn.o_proj.weight", 256, 256);
            Add(p + "self_attn.q_norm.weight", 64);
            Add(p + "self_attn.k_norm.weight", 64);
            Add(p + "mlp.gate_proj.weight", 512, 256);
            Add(p + "mlp.up_proj.weight", 512, 256);
            Add(p + "mlp.down_proj.weight", 256, 512);
        }

        writer.WriteTo(Path.Combine(dir, "model.safetensors"));
        config.Save(Path.Combine(dir, "config.json"));
        TokenizerData.DefaultSmall(config.VocabSize).Save(dir);
        return dir;
    }
}
