using System.Diagnostics;
using WrinkleFree.Testing;
using WrinkleFree.Testing.Training;
using WrinkleFree.Training.Data;
using WrinkleFree.Training.Stages;

namespace WrinkleFree.Training.Tests.Stages;

/// <summary>Small real data (the first Brown documents as a text file) and tiny stage options shared by the stage tests.</summary>
internal static class StageFixtures
{
    /// <summary>A text file of 12 Brown documents separated by two blank lines (~25k words).</summary>
    public static string CorpusPath => TestCorpus.TwelveDocuments;

    public static StageOptions Tiny(string output, long steps) => new()
    {
        Data = DataSource.Parse(CorpusPath),
        OutputDirectory = output,
        SequenceLength = 32,
        BatchSize = 4,
        Steps = steps,
        WarmupSteps = 2,
        LearningRate = 3e-3,
        CheckpointEvery = 0,
        LogEvery = 1,
        EvalBatches = 4,
        HeldOutFraction = 0.1,
        Deterministic = true,
        // 128 wide: the I2_S export packs rows in blocks of 128.
        Teacher = new TeacherShape { VocabSize = 320, HiddenSize = 128, IntermediateSize = 256, Layers = 2, Heads = 4, KeyValueHeads = 2 },
        Output = TextWriter.Null,
    };

    public static Process StartWf(IEnumerable<string> args)
    {
        var p = Process.Start(WfBuild.Full.StartInfo(args))!;
        p.OutputDataReceived += (_, _) => { };
        p.BeginOutputReadLine();
        return p;
    }

    public static async Task<(int ExitCode, string Stderr)> RunWfAsync(IEnumerable<string> args, TimeSpan timeout)
    {
        var (code, _, stderr) = await WfBuild.Full.RunAsync(args, timeout);
        return (code, stderr);
    }
}
