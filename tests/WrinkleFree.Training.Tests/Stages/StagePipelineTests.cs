using WrinkleFree.Inference.Gguf;
using WrinkleFree.Testing;
using WrinkleFree.Training.Data;
using WrinkleFree.Training.Export;
using WrinkleFree.Training.Model;
using WrinkleFree.Training.Stages;

namespace WrinkleFree.Training.Tests.Stages;

[Collection(TorchCollection.Name)]
public sealed class StagePipelineTests
{
    [Fact]
    public async Task AllStages_TinyModel_TrainConvertDistilAndExport()
    {
        using var temp = new TempDirectory();
        var teacherDir = temp.Sub("teacher");
        var teacher = await StageTrainer.RunAsync(TrainingStage.Teacher, StageFixtures.Tiny(teacherDir, 12), CancellationToken.None);
        Assert.Equal(12, teacher.Steps);
        Assert.True(teacher.HeldOutPerplexity < 320, $"a trained teacher beats uniform guessing over 320 tokens, got {teacher.HeldOutPerplexity}");

        var stage1Dir = temp.Sub("stage1");
        using (var fp = CausalLanguageModel.Load(teacherDir))
        using (var student = SubLnConverter.Convert(fp))
        {
            student.Save(stage1Dir);
            File.Copy(Path.Combine(teacherDir, TrainingTokenizer.FileName), Path.Combine(stage1Dir, TrainingTokenizer.FileName));
        }

        var s19 = await StageTrainer.RunAsync(TrainingStage.Stage19, StageFixtures.Tiny(temp.Sub("s19"), 4) with
        {
            TeacherDirectory = teacherDir, ModelDirectory = stage1Dir, LambdaWarmupSteps = 2,
        }, CancellationToken.None);
        var s2 = await StageTrainer.RunAsync(TrainingStage.Stage2, StageFixtures.Tiny(temp.Sub("s2"), 4) with
        {
            ModelDirectory = s19.OutputDirectory, Schedule = LearningRateScheduleKind.Wsd,
        }, CancellationToken.None);
        var s3 = await StageTrainer.RunAsync(TrainingStage.Stage3, StageFixtures.Tiny(temp.Sub("s3"), 4) with
        {
            TeacherDirectory = teacherDir, ModelDirectory = s2.OutputDirectory, KlWeight = 1, AttentionRelationWeight = 1e3, AttentionRelationLayer = 1,
        }, CancellationToken.None);
        Assert.All([s19, s2, s3], r => Assert.True(double.IsFinite(r.HeldOutPerplexity)));

        using var final = CausalLanguageModel.Load(s3.OutputDirectory);
        Assert.True(final.Config.Ternary && final.Config.SubLn);
        var gguf = Path.Combine(temp.Path, "tiny.gguf");
        GgufExporter.Export(final, TrainingTokenizer.Load(s3.OutputDirectory).ToData(), gguf, new GgufExportOptions());
        using var file = GgufFile.Open(gguf);
        Assert.Equal("wrinklefree", file.Architecture);
        var engineTokenizer = Inference.Tokenization.Tokenizer.FromGguf(file.Metadata);
        var tokenizer = TrainingTokenizer.Load(teacherDir);
        Assert.Equal(tokenizer.Encode("The jury said"), engineTokenizer.Encode("The jury said", addSpecial: false));
    }

    [Fact]
    public async Task RunAsync_CorruptNewestCheckpoint_ResumesFromThePreviousOne()
    {
        using var temp = new TempDirectory();
        var output = temp.Sub("teacher");
        var options = StageFixtures.Tiny(output, 6) with { CheckpointEvery = 2, KeepLastN = 3 };
        await StageTrainer.RunAsync(TrainingStage.Teacher, options, CancellationToken.None);
        var checkpoints = Path.Combine(output, "checkpoints");
        var newest = Directory.GetDirectories(checkpoints, "checkpoint-*").Order(StringComparer.Ordinal).Last();
        Assert.EndsWith("4", newest, StringComparison.Ordinal);
        var weights = Path.Combine(newest, "model.safetensors");
        var bytes = File.ReadAllBytes(weights);
        bytes[^5] ^= 0xFF;
        File.WriteAllBytes(weights, bytes);

        var resumed = await StageTrainer.RunAsync(TrainingStage.Teacher, options with { Steps = 8 }, CancellationToken.None);
        Assert.Equal(2, resumed.ResumedFromStep);
        Assert.Equal(8, resumed.Steps);
    }

    [Fact]
    public async Task RunAsync_CheckpointOfAnotherRun_IsAConfigurationError()
    {
        using var temp = new TempDirectory();
        var output = temp.Sub("teacher");
        var options = StageFixtures.Tiny(output, 4) with { CheckpointEvery = 2 };
        await StageTrainer.RunAsync(TrainingStage.Teacher, options, CancellationToken.None);
        var e = await Assert.ThrowsAsync<TrainingConfigurationException>(() =>
            StageTrainer.RunAsync(TrainingStage.Teacher, options with { Seed = 7 }, CancellationToken.None));
        Assert.Contains("different run", e.Message, StringComparison.Ordinal);
    }
}
