using System.Diagnostics;
using WrinkleFree.Training.Data;
using WrinkleFree.Training.Stages;

namespace WrinkleFree.Training.Tests.Stages;

/// <summary>Small real data (the first Brown documents as a text file) and tiny stage options shared by the stage tests.</summary>
internal static class StageFixtures
{
    private static readonly Lazy<string> Corpus = new(() =>
    {
        var documents = BrownCorpus.ReadDocuments(TestCorpus.Brown).Take(12);
        var path = Path.Combine(Path.GetTempPath(), "wf-training-tests", $"brown12-{Environment.ProcessId}.txt");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, string.Join("\n\n\n", documents));
        return path;
    });

    /// <summary>A text file of 12 Brown documents separated by two blank lines (~25k words).</summary>
    public static string CorpusPath => Corpus.Value;

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

    /// <summary>The built wf.dll next to this repository's Cli project (the test project builds it).</summary>
    public static string WfDll
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "WrinkleFree.slnx")))
            {
                dir = dir.Parent;
            }

            var config = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";
            return Path.Combine(dir?.FullName ?? throw new InvalidOperationException("cannot find WrinkleFree.slnx"), "src", "WrinkleFree.Cli", "bin", config, "net10.0", "wf.dll");
        }
    }

    public static Process StartWf(IEnumerable<string> args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(WfDll);
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        var p = Process.Start(psi)!;
        p.OutputDataReceived += (_, _) => { };
        p.BeginOutputReadLine();
        return p;
    }

    public static async Task<(int ExitCode, string Stderr)> RunWfAsync(IEnumerable<string> args, TimeSpan timeout)
    {
        using var p = StartWf(args);
        var stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await p.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"wf {string.Join(' ', args)} did not finish within {timeout}");
        }

        return (p.ExitCode, await stderr);
    }
}
